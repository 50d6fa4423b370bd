/* c-env [NAME...]: prints `environ` in order, then getenv of each NAME; then setenv, unsetenv
 * and putenv, and the environment again. */
#include <stdlib.h>
#include "corpus.h"

extern char **environ;

static void dump(const char *title) {
    int n = 0;
    printf("%s:\n", title);
    for (char **e = environ; e && *e; e++, n++) {
        printf("  ");
        put_escaped((const unsigned char *)*e, strlen(*e));
        printf("\n");
    }
    printf("  (%d entries)\n", n);
}

int main(int argc, char **argv) {
    dump("environ");
    for (int i = 1; i < argc; i++) {
        const char *v = getenv(argv[i]);
        printf("getenv(%s) = %s%s%s\n", argv[i], v ? "\"" : "", v ? v : "NULL", v ? "\"" : "");
    }
    step("setenv NEW=1", setenv("NEW", "1", 0));
    step("setenv NEW=2 without overwrite", setenv("NEW", "2", 0));
    step("setenv with = in the name", setenv("A=B", "x", 1));
    step("unsetenv HOME", unsetenv("HOME"));
    static char put[] = "PUT=yes";
    step("putenv PUT=yes", putenv(put));
    dump("after changes");
    return 0;
}
