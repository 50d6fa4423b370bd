/* atoll's first C program (wasi-libc): arguments, environment, a file in /tmp, the clock. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    printf("Hello from C on atoll! I am %s, argc=%d.\n", argv[0], argc);
    for (int i = 1; i < argc; i++)
        printf("arg[%d] = %s\n", i, argv[i]);
    const char *home = getenv("HOME");
    printf("HOME=%s\n", home ? home : "(unset)");

    FILE *f = fopen("/tmp/hello-c.txt", "w");
    if (f) {
        fputs("written by hello-c\n", f);
        fclose(f);
        char line[64];
        f = fopen("/tmp/hello-c.txt", "r");
        if (f && fgets(line, sizeof line, f))
            printf("read back from /tmp: %s", line);
        if (f)
            fclose(f);
    } else {
        printf("no writable /tmp\n");
    }

    struct timespec a, b;
    if (clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0)
        printf("monotonic clock %s\n", (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)) ? "ok" : "went backwards");
    return 0;
}
