#ifndef HEALTHSCORE_CFUZZERENTRY_H
#define HEALTHSCORE_CFUZZERENTRY_H

/// Runs libFuzzer's driver on argv with the program's LLVMFuzzerTestOneInput. SwiftPM makes an
/// executable's `main` an alias of `<Module>_main`, which replaces the `main` libFuzzer brings, so the
/// fuzz build's `FuzzTargets_main` calls this instead. Returns 2 when libFuzzer is not linked in.
int healthscore_fuzzer_run(int argc, char **argv);

#endif
