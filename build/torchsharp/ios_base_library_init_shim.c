/*
 * Stand-in for std::ios_base_library_init(), which GCC 13's <iostream> makes every translation unit
 * reference and which only libstdc++ >= GLIBCXX_3.4.32 defines. TorchSharp's libLibTorchSharp.so was
 * built with GCC 13, so on an older libstdc++ (Debian 12 has 3.4.30) the symbol would stay undefined.
 *
 * Doing nothing is correct there: the older libstdc++ still initialises std::cout and friends itself,
 * through the static std::ios_base::Init objects of the libraries loaded before this one (LibTorch).
 * When a newer libstdc++ is present this library is not built at all.
 *
 * In TorchSharp 0.107 no relocation refers to the symbol (readelf -r), so the clear-version and weak-flag
 * steps alone already let it load; this keeps it loadable should a later build actually call it.
 */
void _ZSt21ios_base_library_initv(void) {}
