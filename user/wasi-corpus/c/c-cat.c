/* c-cat [BUFSIZE]: copies stdin to stdout with read(2)/write(2) (default 4096-byte reads),
 * then reads twice more after end of input; totals on stderr. */
#include <stdlib.h>
#include <unistd.h>
#include "corpus.h"

int main(int argc, char **argv) {
    size_t size = argc > 1 ? (size_t)atol(argv[1]) : 4096;
    if (size == 0)
        size = 1;
    char *buf = malloc(size);
    if (!buf)
        return 2;
    long total = 0;
    for (;;) {
        ssize_t n = read(0, buf, size);
        if (n < 0) {
            fprintf(stderr, "read: %s\n", errno_name(errno));
            return 1;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w <= 0) {
                fprintf(stderr, "write: %s\n", errno_name(errno));
                return 1;
            }
            off += w;
        }
        total += n;
    }
    fprintf(stderr, "copied %ld bytes\n", total);
    for (int i = 0; i < 2; i++)
        fprintf(stderr, "read after EOF: %ld\n", (long)read(0, buf, size));
    free(buf);
    return 0;
}
