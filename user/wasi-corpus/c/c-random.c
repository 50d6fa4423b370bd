/* c-random: getentropy (256-byte limit), arc4random_buf and arc4random (shape only). */
#include <stdlib.h>
#include <unistd.h>
#include "corpus.h"

int main(void) {
    unsigned char a[256], b[256], big[300];
    step("getentropy 256", getentropy(a, sizeof a));
    step("getentropy 257", getentropy(big, 257));
    step("getentropy 0", getentropy(a, 0));
    getentropy(b, sizeof b);
    printf("two draws differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
    arc4random_buf(a, sizeof a);
    int nonzero = 0;
    for (unsigned i = 0; i < sizeof a; i++)
        nonzero |= a[i];
    printf("arc4random_buf not all zero: %s\n", nonzero ? "yes" : "no");
    unsigned x = arc4random(), y = arc4random();
    printf("arc4random twice differs: %s\n", x != y ? "yes" : "no");
    printf("arc4random_uniform(10) < 10: %s\n", arc4random_uniform(10) < 10 ? "yes" : "no");
    return 0;
}
