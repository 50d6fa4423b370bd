/* c-args: prints argc and each argument (argv[0] included) escaped, with its length. */
#include "corpus.h"

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d] len=%zu \"", i, strlen(argv[i]));
        put_escaped((const unsigned char *)argv[i], strlen(argv[i]));
        printf("\"\n");
    }
    printf("argv[argc] is NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
    return 0;
}
