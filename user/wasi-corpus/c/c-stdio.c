/* c-stdio: stdio buffering seen from outside: printf to stdout and stderr interleaved, an
 * unbuffered stdout (setvbuf), fwrite of binary bytes with NULs, write(2) mixed with
 * buffered output, and a last line without a newline. */
#include <unistd.h>
#include "corpus.h"

int main(void) {
    printf("buffered line 1\n");
    fprintf(stderr, "stderr line 1\n");
    printf("partial, then write(2): ");
    write(1, "[raw write]\n", 12);
    fflush(stdout);
    fprintf(stderr, "stderr partial ");
    fprintf(stderr, "completed\n");
    unsigned char bin[300];
    for (int i = 0; i < 300; i++)
        bin[i] = (unsigned char)(i * 31 + 7);
    bin[10] = 0;
    fwrite(bin, 1, sizeof bin, stdout);
    printf("\n");
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("unbuffered A ");
    write(1, "raw B ", 6);
    printf("unbuffered C\n");
    fputs("invalid UTF-8: \xc3\x28 \xa0\xa1 \xf0\x28\x8c\x28\n", stdout);
    fprintf(stderr, "last stderr line without a newline");
    printf("last stdout line without a newline");
    return 0;
}
