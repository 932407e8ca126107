#!/bin/bash -eu
# ClusterFuzzLite build: the OSS-Fuzz build script, unchanged (it honours
# CC, CFLAGS, LIB_FUZZING_ENGINE, OUT, SRC and WORK, and puts every fuzz
# target with its dictionary, options and seed corpus into $OUT).
# fuzz/oss-fuzz/emulate.sh runs the same script locally without Docker.
exec "$SRC/mappedpages/fuzz/oss-fuzz/build.sh"
