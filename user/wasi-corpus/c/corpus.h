/* Shared helpers for the C corpus programs (wasi-libc): errno names, printing a step's
 * result, reading a whole file. Every program prints one line per step, `label: ok` or
 * `label: ENAME`, so outputs are deterministic. */
#ifndef CORPUS_H
#define CORPUS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline const char *errno_name(int e) {
#define E(x) \
    case x:  \
        return #x;
    switch (e) {
        case 0:
            return "0";
        E(E2BIG) E(EACCES) E(EADDRINUSE) E(EADDRNOTAVAIL) E(EAFNOSUPPORT) E(EAGAIN) E(EALREADY)
        E(EBADF) E(EBADMSG) E(EBUSY) E(ECANCELED) E(ECHILD) E(ECONNABORTED) E(ECONNREFUSED)
        E(ECONNRESET) E(EDEADLK) E(EDESTADDRREQ) E(EDOM) E(EDQUOT) E(EEXIST) E(EFAULT) E(EFBIG)
        E(EHOSTUNREACH) E(EIDRM) E(EILSEQ) E(EINPROGRESS) E(EINTR) E(EINVAL) E(EIO) E(EISCONN)
        E(EISDIR) E(ELOOP) E(EMFILE) E(EMLINK) E(EMSGSIZE) E(EMULTIHOP) E(ENAMETOOLONG)
        E(ENETDOWN) E(ENETRESET) E(ENETUNREACH) E(ENFILE) E(ENOBUFS) E(ENODEV) E(ENOENT)
        E(ENOEXEC) E(ENOLCK) E(ENOLINK) E(ENOMEM) E(ENOMSG) E(ENOPROTOOPT) E(ENOSPC) E(ENOSYS)
        E(ENOTCONN) E(ENOTDIR) E(ENOTEMPTY) E(ENOTRECOVERABLE) E(ENOTSOCK) E(ENOTSUP) E(ENOTTY)
        E(ENXIO) E(EOVERFLOW) E(EOWNERDEAD) E(EPERM) E(EPIPE) E(EPROTO) E(EPROTONOSUPPORT)
        E(EPROTOTYPE) E(ERANGE) E(EROFS) E(ESPIPE) E(ESRCH) E(ESTALE) E(ETIMEDOUT) E(ETXTBSY)
        E(EXDEV) E(ENOTCAPABLE)
        default:
            return "E?";
    }
#undef E
}

/* Prints `label: ok` when `ret` is not negative, else `label: ENAME` from errno. Returns ret. */
static inline long step(const char *label, long ret) {
    if (ret < 0)
        printf("%s: %s\n", label, errno_name(errno));
    else
        printf("%s: ok\n", label);
    return ret;
}

/* Prints `label: N` when `ret` is not negative, else `label: ENAME`. Returns ret. */
static inline long show(const char *label, long ret) {
    if (ret < 0)
        printf("%s: %s\n", label, errno_name(errno));
    else
        printf("%s: %ld\n", label, ret);
    return ret;
}

/* Prints bytes with everything outside printable ASCII as \xNN. */
static inline void put_escaped(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            fputs("\\\\", stdout);
        else if (p[i] >= 0x20 && p[i] < 0x7f)
            putchar(p[i]);
        else
            printf("\\x%02x", p[i]);
    }
}

#endif
