#!/bin/sh
# The core reaches the operating system only through the I/O seam: no file
# or mapping call may appear in core/src outside the posix backend. Calls
# through a method table (p->vfs->rename(...)) are the seam and are allowed.
# Usage: check-seam.sh <core/src>
src=${1:?usage: check-seam.sh <core/src dir>}
calls='mmap|munmap|mremap|msync|ftruncate|fallocate|posix_fallocate|lseek|fsync|fdatasync|flock|fcntl|open|openat|close|pread|pwrite|read|write|rename|renameat2|link|unlink|fstat|stat|madvise|mprotect|dlopen'
bad=$(grep -nP "(?<![>.\\w])($calls)\\s*\\(" "$src"/*.c "$src"/*.h 2>/dev/null \
      | grep -v '^[^:]*/io_posix\.c:' \
      | grep -vP '^[^:]*:\d+:\s*(\*|/\*)')
if [ -n "$bad" ]; then
    echo "OS calls outside core/src/io_posix.c:"
    echo "$bad"
    exit 1
fi
n=$(ls "$src"/*.c | wc -l)
echo "seam check: $n core sources, no direct OS file or mapping call outside io_posix.c"
