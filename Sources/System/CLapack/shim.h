// CBLAS and LAPACKE from Debian's libopenblas-dev / liblapacke-dev.
#include <cblas.h>
#include <lapacke.h>
