#!/bin/sh
# The core reaches the operating system only through the I/O seam: no file
# or mapping call may appear in core/src outside the posix backend.
# Usage: check-seam.sh <core/src>
src=${1:?usage: check-seam.sh <core/src dir>}
pattern='\b(mmap|munmap|mremap|msync|ftruncate|fsync|fdatasync|flock|fcntl|open|openat|close|pread|pwrite|read|write|rename|renameat2|unlink|fstat|stat|madvise|mprotect)[[:space:]]*\('
bad=$(grep -nE "$pattern" "$src"/*.c "$src"/*.h 2>/dev/null | grep -v '^[^:]*/io_posix\.c:' \
      | grep -vE '^[^:]*:[0-9]+:[[:space:]]*(\*|/\*)' \
      | grep -vE '(->|\.)(open|close|sync|read|write)[[:space:]]*\(')
if [ -n "$bad" ]; then
    echo "OS calls outside core/src/io_posix.c:"
    echo "$bad"
    exit 1
fi
n=$(ls "$src"/*.c | wc -l)
echo "seam check: $n core sources, no direct OS file or mapping call outside io_posix.c"
