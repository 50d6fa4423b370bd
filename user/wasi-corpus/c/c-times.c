/* c-times: utimensat/futimens with explicit times, UTIME_NOW and UTIME_OMIT in each slot,
 * compared with stat's st_atim/st_mtim (explicit values exactly, "now" within a minute). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "corpus.h"

static void report(const char *label, const char *path, long long before_a, long long before_m) {
    struct stat st;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (stat(path, &st) != 0) {
        printf("%s: stat %s\n", label, errno_name(errno));
        return;
    }
    long long a = st.st_atim.tv_sec, m = st.st_mtim.tv_sec;
    const char *an = a == before_a ? "kept" : (llabs(a - now.tv_sec) < 60 ? "now" : NULL);
    const char *mn = m == before_m ? "kept" : (llabs(m - now.tv_sec) < 60 ? "now" : NULL);
    printf("%s: atime=", label);
    if (an) printf("%s", an); else printf("%lld.%09ld", a, st.st_atim.tv_nsec);
    printf(" mtime=");
    if (mn) printf("%s", mn); else printf("%lld.%09ld", m, st.st_mtim.tv_nsec);
    printf("\n");
}

int main(void) {
    const char *p = "/data/t";
    int fd = open(p, O_CREAT | O_RDWR, 0644);
    long values[] = {0, UTIME_NOW, UTIME_OMIT};
    const char *names[] = {"explicit", "UTIME_NOW", "UTIME_OMIT"};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            struct timespec old[2] = {{1000, 0}, {2000, 0}};
            utimensat(AT_FDCWD, p, old, 0);
            struct timespec ts[2] = {{1111111111, 0}, {1222222222, 500}};
            if (values[i]) ts[0].tv_nsec = values[i];
            if (values[j]) ts[1].tv_nsec = values[j];
            char label[80];
            snprintf(label, sizeof label, "utimensat atime=%s mtime=%s", names[i], names[j]);
            if (utimensat(AT_FDCWD, p, ts, 0) != 0)
                printf("%s: %s\n", label, errno_name(errno));
            else
                report(label, p, 1000, 2000);
            utimensat(AT_FDCWD, p, old, 0);
            snprintf(label, sizeof label, "futimens atime=%s mtime=%s", names[i], names[j]);
            if (futimens(fd, ts) != 0)
                printf("%s: %s\n", label, errno_name(errno));
            else
                report(label, p, 1000, 2000);
        }
    }
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    step("utimensat nsec out of range", utimensat(AT_FDCWD, p, bad, 0));
    step("utimensat NULL times (now)", utimensat(AT_FDCWD, p, NULL, 0));
    report("after NULL", p, 1000, 2000);
    step("utimensat missing", utimensat(AT_FDCWD, "/data/missing", NULL, 0));
    symlink("t", "/data/l");
    struct timespec old[2] = {{3000, 0}, {4000, 0}};
    step("utimensat symlink nofollow", utimensat(AT_FDCWD, "/data/l", old, AT_SYMLINK_NOFOLLOW));
    struct stat st;
    lstat("/data/l", &st);
    printf("symlink mtime %lld\n", (long long)st.st_mtim.tv_sec);
    stat("/data/t", &st);
    printf("target mtime is 4000: %s\n", st.st_mtim.tv_sec == 4000 ? "yes" : "no");
    close(fd);
    return 0;
}
