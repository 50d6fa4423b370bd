/* c-large [MIB]: writes MIB MiB (default 16) with fwrite in odd-sized pieces, checks the size
 * with fstat and lseek, reads it back with fread and compares a checksum, then writes 1 MiB to
 * stdout in one fwrite. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static unsigned char byte_at(long i) { return (unsigned char)((i * 2654435761u) >> 13); }

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 16, total = mib << 20;
    FILE *f = fopen("/data/large.bin", "w+");
    if (!f) {
        printf("fopen: %s\n", errno_name(errno));
        return 1;
    }
    unsigned char *buf = malloc(1 << 20);
    unsigned long sum_in = 0, sum_out = 0;
    long written = 0;
    while (written < total) {
        long piece = 100003;
        if (piece > total - written) piece = total - written;
        for (long i = 0; i < piece; i++) {
            buf[i] = byte_at(written + i);
            sum_in = sum_in * 31 + buf[i];
        }
        if (fwrite(buf, 1, (size_t)piece, f) != (size_t)piece) {
            printf("fwrite: %s\n", errno_name(errno));
            return 1;
        }
        written += piece;
    }
    fflush(f);
    struct stat st;
    fstat(fileno(f), &st);
    printf("fstat size %lld (expected %ld)\n", (long long)st.st_size, total);
    printf("lseek end %ld\n", (long)lseek(fileno(f), 0, SEEK_END));
    rewind(f);
    size_t n;
    long got = 0;
    while ((n = fread(buf, 1, 65537, f)) > 0) {
        for (size_t i = 0; i < n; i++)
            sum_out = sum_out * 31 + buf[i];
        got += (long)n;
    }
    printf("read back %ld bytes, checksum matches: %s\n", got, sum_in == sum_out ? "yes" : "no");
    fclose(f);
    for (long i = 0; i < (1 << 20); i++)
        buf[i] = (unsigned char)('a' + i % 26);
    fprintf(stderr, "fwrite of 1 MiB to stdout: %zu\n", fwrite(buf, 1, 1 << 20, stdout));
    free(buf);
    return 0;
}
