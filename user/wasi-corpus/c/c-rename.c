/* c-rename: rename(2) of files and directories in /data, with trailing slashes. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static void touch(const char *p, const char *text) {
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
        write(fd, text, strlen(text));
        close(fd);
    }
}

int main(void) {
    touch("/data/f1", "one");
    touch("/data/f2", "two");
    mkdir("/data/d1", 0755);
    mkdir("/data/d2", 0755);
    mkdir("/data/full", 0755);
    touch("/data/full/x", "x");
    step("f1 -> f3", rename("/data/f1", "/data/f3"));
    step("f3 -> f2 (over a file)", rename("/data/f3", "/data/f2"));
    step("f2 -> d1 (over a dir)", rename("/data/f2", "/data/d1"));
    step("d1 -> f2 (a dir over a file)", rename("/data/d1", "/data/f2"));
    step("d1 -> d2 (over an empty dir)", rename("/data/d1", "/data/d2"));
    step("d2 -> full (over a non-empty dir)", rename("/data/d2", "/data/full"));
    step("d2/ -> d3/", rename("/data/d2/", "/data/d3/"));
    step("f2/ -> f4", rename("/data/f2/", "/data/f4"));
    step("f2 -> f4/", rename("/data/f2", "/data/f4/"));
    step("d3 -> d3/sub", rename("/data/d3", "/data/d3/sub"));
    step("missing -> x", rename("/data/missing", "/data/x"));
    step("f2 -> /elsewhere (no preopen)", rename("/data/f2", "/elsewhere"));
    step("f2 -> /data/../f2", rename("/data/f2", "/data/../f2"));
    step("full -> full", rename("/data/full", "/data/full"));
    struct stat st;
    printf("f2 exists: %s\n", stat("/data/f2", &st) == 0 ? "yes" : errno_name(errno));
    printf("d3 exists: %s\n", stat("/data/d3", &st) == 0 ? "yes" : errno_name(errno));
    return 0;
}
