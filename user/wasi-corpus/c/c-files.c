/* c-files: POSIX file calls in /data: open with O_CREAT/O_EXCL/O_TRUNC/O_APPEND, lseek,
 * pread/pwrite, ftruncate, posix_fallocate, posix_fadvise, fsync, and their errors. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static void contents(const char *path) {
    char buf[256];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    printf("  %s = \"", path);
    if (n > 0)
        put_escaped((unsigned char *)buf, (size_t)n);
    printf("\"\n");
    if (fd >= 0)
        close(fd);
}

int main(void) {
    int fd = (int)step("open creat", open("/data/f.txt", O_CREAT | O_RDWR, 0644));
    show("write", write(fd, "hello world", 11));
    show("lseek SEEK_SET 6", lseek(fd, 6, SEEK_SET));
    show("write", write(fd, "WORLD", 5));
    show("lseek SEEK_CUR -100", lseek(fd, -100, SEEK_CUR));
    show("lseek SEEK_END 0", lseek(fd, 0, SEEK_END));
    show("pwrite at 20", pwrite(fd, "far", 3, 20));
    char b[8] = {0};
    show("pread 5 at 0", pread(fd, b, 5, 0));
    printf("  got \"%s\"\n", b);
    show("offset unchanged", lseek(fd, 0, SEEK_CUR));
    contents("/data/f.txt");
    step("ftruncate 5", ftruncate(fd, 5));
    int e = posix_fallocate(fd, 0, 64);
    printf("posix_fallocate: %s\n", errno_name(e));
    e = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    printf("posix_fadvise: %s\n", errno_name(e));
    e = posix_fadvise(fd, 0, 0, 99);
    printf("posix_fadvise bad advice: %s\n", errno_name(e));
    step("fsync", fsync(fd));
    step("fdatasync", fdatasync(fd));
    step("close", close(fd));
    step("close again", close(fd));
    contents("/data/f.txt");
    step("open creat|excl existing", open("/data/f.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    step("open missing", open("/data/missing", O_RDONLY));
    step("open a dir for writing", open("/data", O_WRONLY));
    step("open O_DIRECTORY on a file", open("/data/f.txt", O_RDONLY | O_DIRECTORY));
    fd = (int)step("open append", open("/data/f.txt", O_WRONLY | O_APPEND));
    lseek(fd, 0, SEEK_SET);
    show("write appends", write(fd, "+tail", 5));
    show("fcntl F_GETFL has O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    close(fd);
    contents("/data/f.txt");
    fd = (int)step("open trunc", open("/data/f.txt", O_WRONLY | O_TRUNC));
    close(fd);
    struct stat st;
    step("stat", stat("/data/f.txt", &st));
    printf("  size %lld nlink %llu\n", (long long)st.st_size, (unsigned long long)st.st_nlink);
    fd = (int)step("open read-only", open("/data/f.txt", O_RDONLY));
    show("write on read-only", write(fd, "x", 1));
    step("ftruncate on read-only", ftruncate(fd, 0));
    close(fd);
    FILE *f = fopen("/data/stdio.txt", "w+");
    if (f) {
        fprintf(f, "formatted %d %s\n", 42, "text");
        rewind(f);
        char line[64] = {0};
        if (fgets(line, sizeof line, f))
            printf("fgets: %s", line);
        printf("ftell: %ld\n", ftell(f));
        fclose(f);
    }
    printf("fopen missing: %s\n", fopen("/data/none/x", "r") ? "opened" : errno_name(errno));
    return 0;
}
