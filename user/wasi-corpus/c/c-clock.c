/* c-clock: clock_gettime/clock_getres for the realtime and monotonic clocks, time(), gettimeofday, nanosleep
 * and usleep measured with the monotonic clock (shape only). */
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "corpus.h"

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    /* wasi-libc defines only these two (no CPU-time clocks). */
    clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
    const char *names[] = {"REALTIME", "MONOTONIC"};
    for (int i = 0; i < 2; i++) {
        struct timespec t;
        int r = clock_getres(ids[i], &t);
        printf("clock_getres %s: %s\n", names[i], r ? errno_name(errno) : (ns(t) > 0 ? "positive" : "zero"));
        r = clock_gettime(ids[i], &t);
        printf("clock_gettime %s: %s\n", names[i], r ? errno_name(errno) : (ns(t) > 0 ? "positive" : "zero"));
    }
    time_t now = time(NULL);
    printf("time() after 2020: %s\n", now > 1577836800 ? "yes" : "no");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday agrees with time(): %s\n", tv.tv_sec - now <= 1 && tv.tv_sec >= now ? "yes" : "no");
    struct timespec a, b, d = {0, 30000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    step("nanosleep 30 ms", nanosleep(&d, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept at least 30 ms: %s\n", ns(b) - ns(a) >= 30000000 ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &a);
    step("usleep 20000", usleep(20000));
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept at least 20 ms: %s\n", ns(b) - ns(a) >= 20000000 ? "yes" : "no");
    struct timespec neg = {-1, 0};
    step("nanosleep negative", nanosleep(&neg, NULL));
    struct timespec big = {0, 1000000000};
    step("nanosleep nsec out of range", nanosleep(&big, NULL));
    return 0;
}
