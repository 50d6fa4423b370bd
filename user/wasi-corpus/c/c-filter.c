/* c-filter: a line filter over stdin (fgets into a small buffer, so long lines arrive in
 * pieces): numbers each line, reverses it, and strips CR; counts on stderr. */
#include "corpus.h"

int main(void) {
    char buf[16];
    char line[4096];
    size_t len = 0;
    int n = 0, pieces = 0;
    while (fgets(buf, sizeof buf, stdin)) {
        pieces++;
        size_t k = strlen(buf);
        if (len + k < sizeof line) {
            memcpy(line + len, buf, k);
            len += k;
        }
        if (k && buf[k - 1] != '\n' && !feof(stdin))
            continue;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        printf("%3d ", ++n);
        for (size_t i = len; i > 0; i--)
            putchar(line[i - 1]);
        putchar('\n');
        len = 0;
    }
    fprintf(stderr, "%d lines in %d pieces\n", n, pieces);
    return 0;
}
