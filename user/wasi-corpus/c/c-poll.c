/* c-poll: poll(2) with only a timeout (30 ms pass), on stdin and stdout, on a regular file,
 * and on a bad fd (POLLNVAL); revents printed. */
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include "corpus.h"

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void one(const char *label, int fd, short events) {
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, 5000);
    if (r < 0)
        printf("%s: %s\n", label, errno_name(errno));
    else
        printf("%s: %d ready, revents in=%d out=%d nval=%d err=%d hup=%d\n", label, r, !!(p.revents & POLLIN), !!(p.revents & POLLOUT),
               !!(p.revents & POLLNVAL), !!(p.revents & POLLERR), !!(p.revents & POLLHUP));
}

int main(void) {
    long long t0 = now_ns();
    show("poll(NULL, 0, 30)", poll(NULL, 0, 30));
    printf("waited at least 30 ms: %s\n", now_ns() - t0 >= 30000000 ? "yes" : "no");
    one("stdin POLLIN", 0, POLLIN);
    one("stdout POLLOUT", 1, POLLOUT);
    int fd = open("/data/p.txt", O_CREAT | O_RDWR, 0644);
    /* One poll each: asked together, wasmtime reports POLLOUT alone or both, depending on how
     * soon its background read of the file completes. */
    one("file POLLIN", fd, POLLIN);
    one("file POLLOUT", fd, POLLOUT);
    one("bad fd", 77, POLLIN);
    one("negative fd (ignored)", -1, POLLIN);
    char buf[64];
    ssize_t n = read(0, buf, sizeof buf);
    printf("then read stdin: %ld\n", (long)n);
    return 0;
}
