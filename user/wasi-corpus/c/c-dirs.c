/* c-dirs: mkdir/rmdir (ENOTEMPTY, EEXIST, ENOTDIR), and opendir/readdir/telldir/seekdir/
 * rewinddir over the fixture tree at /data: sorted names with d_type, a rewind giving the
 * same set, and seekdir back to a remembered position giving the same next entry. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus.h"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list(DIR *d, char **names, int max) {
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char *s = malloc(strlen(e->d_name) + 8);
        const char *t = e->d_type == DT_DIR ? "/" : e->d_type == DT_LNK ? "@" : e->d_type == DT_REG ? "" : "?";
        sprintf(s, "%s%s", e->d_name, t);
        names[n++] = s;
    }
    qsort(names, (size_t)n, sizeof *names, cmp);
    return n;
}

int main(void) {
    step("mkdir new", mkdir("/data/new", 0755));
    step("mkdir new again", mkdir("/data/new", 0755));
    step("mkdir under a file", mkdir("/data/a.txt/x", 0755));
    step("rmdir c (not empty)", rmdir("/data/c"));
    step("rmdir a.txt", rmdir("/data/a.txt"));
    step("rmdir new", rmdir("/data/new"));
    step("rmdir missing", rmdir("/data/missing"));
    step("unlink c", unlink("/data/c"));
    DIR *d = opendir("/data");
    if (!d) {
        printf("opendir: %s\n", errno_name(errno));
        return 1;
    }
    char *names[64];
    int n = list(d, names, 64);
    printf("%d entries:", n);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
    rewinddir(d);
    char *again[64];
    int m = list(d, again, 64);
    int same = m == n;
    for (int i = 0; same && i < n; i++)
        same = !strcmp(names[i], again[i]);
    printf("after rewinddir, same entries: %s\n", same ? "yes" : "no");
    rewinddir(d);
    readdir(d);
    readdir(d);
    long pos = telldir(d);
    struct dirent *e = readdir(d);
    char next[256];
    snprintf(next, sizeof next, "%s", e ? e->d_name : "(end)");
    readdir(d);
    seekdir(d, pos);
    e = readdir(d);
    printf("seekdir back gives the same entry: %s\n", e && !strcmp(e->d_name, next) ? "yes" : "no");
    closedir(d);
    printf("opendir a file: %s\n", opendir("/data/a.txt") ? "opened" : errno_name(errno));
    printf("opendir missing: %s\n", opendir("/data/missing") ? "opened" : errno_name(errno));
    struct dirent **list2;
    int k = scandir("/data/c", &list2, NULL, alphasort);
    printf("scandir c: %d:", k);
    for (int i = 0; i < k; i++)
        printf(" %s", list2[i]->d_name);
    printf("\n");
    return 0;
}
