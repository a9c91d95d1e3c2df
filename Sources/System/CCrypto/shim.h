// OpenSSL's libcrypto (Debian libssl-dev): only the EVP digest API, for fast SHA-256 of data files.
#include <openssl/evp.h>
