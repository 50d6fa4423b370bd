/* c-exit MODE [N]: ends as MODE says, after output. `return N` from main, `exit N` (atexit
 * handlers run, stdio flushed), `_Exit N` (neither: the buffered line is lost), `abort`,
 * `trap` (__builtin_trap). */
#include <stdlib.h>
#include "corpus.h"

static void first(void) { printf("atexit handler 1 (registered first, runs last)\n"); }
static void second(void) { printf("atexit handler 2\n"); }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "return";
    int n = argc > 2 ? atoi(argv[2]) : 0;
    atexit(first);
    atexit(second);
    printf("mode %s %d; this line is buffered", mode, n);
    fprintf(stderr, "stderr is not buffered\n");
    if (!strcmp(mode, "exit"))
        exit(n);
    if (!strcmp(mode, "_Exit"))
        _Exit(n);
    if (!strcmp(mode, "abort"))
        abort();
    if (!strcmp(mode, "trap"))
        __builtin_trap();
    printf("\n");
    return n;
}
