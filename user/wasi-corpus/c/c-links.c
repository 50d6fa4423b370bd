/* c-links: link/symlink/readlink/lstat in /data: st_nlink, shared contents, dangling links,
 * readlink into a short buffer, O_NOFOLLOW on a symlink (ELOOP), loops, unlink. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static void nlink(const char *p) {
    struct stat st;
    if (lstat(p, &st) == 0)
        printf("  %s: %s nlink=%llu size=%lld\n", p, S_ISLNK(st.st_mode) ? "symlink" : S_ISREG(st.st_mode) ? "file" : "other",
               (unsigned long long)st.st_nlink, (long long)st.st_size);
    else
        printf("  %s: %s\n", p, errno_name(errno));
}

int main(void) {
    int fd = open("/data/orig", O_CREAT | O_WRONLY, 0644);
    write(fd, "original", 8);
    close(fd);
    step("link orig hard", link("/data/orig", "/data/hard"));
    nlink("/data/orig");
    fd = open("/data/hard", O_WRONLY);
    pwrite(fd, "ORIG", 4, 0);
    close(fd);
    char buf[64] = {0};
    fd = open("/data/orig", O_RDONLY);
    read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("orig reads \"%s\"\n", buf);
    step("link onto existing", link("/data/orig", "/data/hard"));
    step("link a dir", link("/data", "/data/dirlink"));
    step("symlink sym -> orig", symlink("orig", "/data/sym"));
    step("symlink dangling -> none", symlink("none", "/data/dangling"));
    step("symlink loop1 -> loop2", symlink("loop2", "/data/loop1"));
    step("symlink loop2 -> loop1", symlink("loop1", "/data/loop2"));
    nlink("/data/sym");
    memset(buf, 0, sizeof buf);
    show("readlink sym", readlink("/data/sym", buf, sizeof buf));
    printf("  \"%s\"\n", buf);
    memset(buf, 0, sizeof buf);
    show("readlink sym into 3 bytes", readlink("/data/sym", buf, 3));
    printf("  \"%s\"\n", buf);
    show("readlink a file", readlink("/data/orig", buf, sizeof buf));
    step("open sym", open("/data/sym", O_RDONLY));
    step("open sym O_NOFOLLOW", open("/data/sym", O_RDONLY | O_NOFOLLOW));
    step("open dangling", open("/data/dangling", O_RDONLY));
    step("open loop1", open("/data/loop1", O_RDONLY));
    struct stat st;
    step("stat loop1", stat("/data/loop1", &st));
    step("lstat loop1", lstat("/data/loop1", &st));
    step("unlink sym", unlink("/data/sym"));
    step("unlink orig", unlink("/data/orig"));
    nlink("/data/hard");
    return 0;
}
