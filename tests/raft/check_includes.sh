#!/bin/sh
# Fails if any file under raft/ includes a header that is not ISO C or POSIX
# libc (or one of raft/'s own headers): raft/ must build against libc alone.
dir=${1:?usage: check_includes.sh RAFT_DIR}
list='assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
 locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h
 stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
 strings.h unistd.h sys/types.h'
allowed=" $(echo $list) "
bad=$(for f in "$dir"/*.c "$dir"/*.h; do
    sed -n -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"].*/\1/p' "$f" |
        while read -r hdr; do
            case "$hdr" in
            raft/*) [ -f "$dir/${hdr#raft/}" ] && continue ;;
            esac
            case "$allowed" in
            *" $hdr "*) continue ;;
            esac
            echo "$f: includes <$hdr>, which is not libc"
        done
done)
if [ -n "$bad" ]; then
    echo "$bad"
    exit 1
fi
echo "raft/: libc headers only"
