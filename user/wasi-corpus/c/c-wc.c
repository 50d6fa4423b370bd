/* c-wc: counts lines, words and bytes of stdin with getchar, and the longest line. */
#include <ctype.h>
#include "corpus.h"

int main(void) {
    long lines = 0, words = 0, bytes = 0, longest = 0, cur = 0;
    int in_word = 0, c;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n') {
            lines++;
            if (cur > longest)
                longest = cur;
            cur = 0;
        } else {
            cur++;
        }
        if (isspace(c)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            words++;
        }
    }
    if (cur > longest)
        longest = cur;
    printf("%ld %ld %ld longest %ld\n", lines, words, bytes, longest);
    printf("feof=%d ferror=%d\n", feof(stdin) != 0, ferror(stdin) != 0);
    printf("getchar after EOF: %d\n", getchar());
    return 0;
}
