# The ABI version of the shared libraries, stated once: libmappedpages.so
# and libfaultfs.so get the SONAME lib<name>.so.${MP_ABI_VERSION}, the CMake
# package and README.md's install section follow it. Bump it when a change
# breaks programs linked against the previous build: an exported function
# removed or its signature changed, a public struct's layout or a public
# constant's meaning changed. Appending a function or an error code, or
# growing a versioned struct (MP_OPTIONS_VERSION, MP_IO_VERSION) the way
# its header allows, does not. ci/check-install.sh reads the SONAME back.
# History: 1, mp_iter's layout (a public id buffer for the inline fast
# path of iter.h).
set(MP_ABI_VERSION 1)
