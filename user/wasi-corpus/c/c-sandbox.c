/* c-sandbox: wasi-libc resolves absolute paths against the preopens and relative ones against
 * its emulated cwd: paths outside every preopen, `..` out of /data, chdir into /data and
 * relative opens, getcwd. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static void try_open(const char *p) {
    char label[300];
    snprintf(label, sizeof label, "open %s", p);
    int fd = (int)step(label, open(p, O_RDONLY));
    if (fd >= 0)
        close(fd);
}

int main(void) {
    const char *paths[] = {"/etc/passwd", "/", "/data/../outside.txt", "/data/..", "/data/sub/../../outside.txt",
                           "/data/sub/../sub/note.txt", "outside.txt", "../outside.txt", "sub/note.txt", "/data//sub///note.txt"};
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++)
        try_open(paths[i]);
    char cwd[PATH_MAX];
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : errno_name(errno));
    step("chdir /data", chdir("/data"));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : errno_name(errno));
    try_open("sub/note.txt");
    try_open("../outside.txt");
    step("chdir sub", chdir("sub"));
    try_open("note.txt");
    try_open("../sub/note.txt");
    try_open("../../outside.txt");
    step("chdir ..", chdir(".."));
    step("chdir .. again (out of /data)", chdir(".."));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : errno_name(errno));
    step("chdir /nowhere", chdir("/nowhere"));
    step("chdir to a file", chdir("/data/sub/note.txt"));
    step("mkdir /newdir (no preopen)", mkdir("/newdir", 0755));
    step("mkdir /data/../escape", mkdir("/data/../escape", 0755));
    step("creat /data/../escape.txt", open("/data/../escape.txt", O_CREAT | O_WRONLY, 0644));
    return 0;
}
