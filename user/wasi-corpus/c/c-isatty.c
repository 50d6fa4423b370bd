/* c-isatty: isatty() and fstat() of fds 0, 1, 2 and of a bad fd (the errno each sets). */
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static const char *kind(mode_t m) {
    if (S_ISREG(m)) return "regular";
    if (S_ISDIR(m)) return "directory";
    if (S_ISCHR(m)) return "char";
    if (S_ISFIFO(m)) return "fifo";
    if (S_ISLNK(m)) return "symlink";
    if (S_ISSOCK(m)) return "socket";
    return "other";
}

int main(void) {
    int fds[] = {0, 1, 2, 9};
    for (int i = 0; i < 4; i++) {
        errno = 0;
        int t = isatty(fds[i]);
        printf("isatty(%d) = %d errno %s\n", fds[i], t, errno_name(errno));
        struct stat st;
        if (fstat(fds[i], &st) == 0)
            printf("fstat(%d): %s\n", fds[i], kind(st.st_mode));
        else
            printf("fstat(%d): %s\n", fds[i], errno_name(errno));
    }
    return 0;
}
