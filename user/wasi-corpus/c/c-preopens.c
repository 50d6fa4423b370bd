/* c-preopens: the preopens as wasi-libc's own API reports them (__wasi_fd_prestat_get and
 * __wasi_fd_prestat_dir_name from <wasi/api.h>), and which directory a path resolves to. */
#include <stdlib.h>
#include <sys/stat.h>
#include <wasi/api.h>
#include "corpus.h"

int main(void) {
    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_prestat_t ps;
        __wasi_errno_t e = __wasi_fd_prestat_get(fd, &ps);
        if (e != 0) {
            printf("fd %u: %s\n", fd, errno_name(e));
            break;
        }
        char name[256] = {0};
        size_t len = ps.u.dir.pr_name_len < 255 ? ps.u.dir.pr_name_len : 255;
        e = __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, len);
        printf("fd %u: tag %u name \"%s\" (%s)\n", fd, ps.tag, name, errno_name(e));
    }
    /* The longest matching preopen name wins: /a/b/made.txt lands in the third directory. */
    FILE *f = fopen("/a/b/made.txt", "w");
    printf("create /a/b/made.txt: %s\n", f ? "ok" : errno_name(errno));
    if (f)
        fclose(f);
    f = fopen("/a/made.txt", "w");
    printf("create /a/made.txt: %s\n", f ? "ok" : errno_name(errno));
    if (f)
        fclose(f);
    const char *probe[] = {"/a/made.txt", "/a/b/made.txt", "/b/readme.txt", "/b/dir/file.txt", "/ab/made.txt", "/a/../b/readme.txt"};
    for (int i = 0; i < 6; i++) {
        struct stat st;
        printf("stat %s: %s\n", probe[i], stat(probe[i], &st) == 0 ? "exists" : errno_name(errno));
    }
    return 0;
}
