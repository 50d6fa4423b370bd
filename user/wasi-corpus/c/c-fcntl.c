/* c-fcntl: fcntl F_GETFL/F_SETFL (O_APPEND, O_NONBLOCK) and F_GETFD/F_SETFD on a file and on
 * stdio, access mode bits of files opened different ways, and ioctl
 * FIONREAD on stdin. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "corpus.h"

static void flags(const char *label, int fd) {
    int f = fcntl(fd, F_GETFL);
    if (f < 0) {
        printf("%s: %s\n", label, errno_name(errno));
        return;
    }
    const char *acc = (f & O_ACCMODE) == O_RDONLY ? "rdonly" : (f & O_ACCMODE) == O_WRONLY ? "wronly" : (f & O_ACCMODE) == O_RDWR ? "rdwr" : "other";
    printf("%s: %s%s%s\n", label, acc, f & O_APPEND ? " append" : "", f & O_NONBLOCK ? " nonblock" : "");
}

int main(void) {
    flags("stdin", 0);
    flags("stdout", 1);
    flags("stderr", 2);
    int r = open("/data/f", O_CREAT | O_RDONLY, 0644);
    int w = open("/data/f", O_WRONLY);
    int rw = open("/data/f", O_RDWR | O_APPEND);
    flags("O_RDONLY file", r);
    flags("O_WRONLY file", w);
    flags("O_RDWR|O_APPEND file", rw);
    step("F_SETFL O_NONBLOCK", fcntl(w, F_SETFL, O_NONBLOCK));
    flags("after F_SETFL", w);
    step("F_SETFL 0", fcntl(rw, F_SETFL, 0));
    flags("after clearing append", rw);
    step("F_SETFL O_APPEND on stdout", fcntl(1, F_SETFL, O_APPEND));
    show("F_GETFD", fcntl(r, F_GETFD));
    step("F_SETFD FD_CLOEXEC", fcntl(r, F_SETFD, FD_CLOEXEC));
    show("F_GETFD", fcntl(r, F_GETFD));
    step("fcntl on a bad fd", fcntl(99, F_GETFL));
    int n = -1;
    step("ioctl FIONREAD stdin", ioctl(0, FIONREAD, &n));
    step("ioctl FIONBIO", ioctl(r, FIONBIO, &(int){1}));
    return 0;
}
