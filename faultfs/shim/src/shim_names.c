/*
 * shim_names.c - names of tracked files, and when a name change is
 * durable.
 *
 * Model: creating, renaming or unlinking a tracked file changes its
 * current name at once, but the change reaches the disk only with a sync
 * of the directory. Changes not yet durable are kept in order, and a crash
 * keeps some prefix of them (journaling file systems commit metadata in
 * order, so a later rename never survives without an earlier create). A
 * directory sync makes durable every change up to the last one touching
 * that directory. File syncs do not make names durable (POSIX; ext4 often
 * does, but a program must not count on it).
 */
#include <string.h>
#include <sys/stat.h>

#include "shim.h"

#define G faultfs_shim_g

enum op_kind {
    OP_CREATE,
    OP_RENAME,
    OP_UNLINK
};

struct op {
    enum op_kind kind;
    int file;                     /* tracked file whose name changes, or -1 */
    int victim;                   /* tracked file a rename replaced, or -1 */
    char name[FAULTFS_SHIM_PATH]; /* the new name (create, rename) */
    dev_t dir_dev[2];             /* parent directories involved */
    ino_t dir_ino[2];
};

/* Guarded by the shim's lock like the rest of faultfs_shim_g. */
static struct op ops[FAULTFS_SHIM_MAX_OPS];
static int nops;

static void parent_of(const char *abs, dev_t *dev, ino_t *ino)
{
    char dir[FAULTFS_SHIM_PATH];
    const char *slash = strrchr(abs, '/');
    struct stat st;
    size_t n = slash ? (size_t)(slash - abs) : 0;

    if (n == 0) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, abs, n);
        dir[n] = 0;
    }
    if (stat(dir, &st) == 0) {
        *dev = st.st_dev;
        *ino = st.st_ino;
    } else {
        *dev = 0;
        *ino = 0;
    }
}

static struct op *push(enum op_kind kind, int file, int victim)
{
    struct op *o;
    if (nops == FAULTFS_SHIM_MAX_OPS) {
        faultfs_shim_fatal("more than 64 creates, renames or unlinks of "
                           "tracked files without a directory sync",
                           NULL);
    }
    o = &ops[nops++];
    o->kind = kind;
    o->file = file;
    o->victim = victim;
    o->name[0] = 0;
    o->dir_dev[1] = 0;
    o->dir_ino[1] = 0;
    return o;
}

void faultfs_shim_name_create(int file, const char *abs)
{
    struct op *o = push(OP_CREATE, file, -1);
    strcpy(o->name, abs);
    parent_of(abs, &o->dir_dev[0], &o->dir_ino[0]);
}

void faultfs_shim_name_rename(int file, int victim, const char *from_abs,
                              const char *to_abs)
{
    struct op *o;
    if (file < 0 && victim < 0) {
        return;
    }
    o = push(OP_RENAME, file, victim);
    strcpy(o->name, to_abs);
    parent_of(to_abs, &o->dir_dev[0], &o->dir_ino[0]);
    parent_of(from_abs, &o->dir_dev[1], &o->dir_ino[1]);
    if (victim >= 0) {
        G.files[victim].cur_name[0] = 0;
    }
    if (file >= 0) {
        strcpy(G.files[file].cur_name, to_abs);
    }
}

void faultfs_shim_name_unlink(int file, const char *abs)
{
    struct op *o = push(OP_UNLINK, file, -1);
    parent_of(abs, &o->dir_dev[0], &o->dir_ino[0]);
    G.files[file].cur_name[0] = 0;
}

int faultfs_shim_names_dirsync_covers(int fd)
{
    struct stat st;
    int n = 0;

    if (nops == 0 || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return 0;
    }
    for (int i = 0; i < nops; i++) {
        for (int d = 0; d < 2; d++) {
            if (ops[i].dir_ino[d] == st.st_ino &&
                ops[i].dir_dev[d] == st.st_dev) {
                n = i + 1;
            }
        }
    }
    return n;
}

int faultfs_shim_names_pending(void)
{
    return nops;
}

const char *faultfs_shim_name_after(int i, int n)
{
    const char *name = G.files[i].dur_name;
    for (int k = 0; k < n; k++) {
        if (ops[k].victim == i) {
            name = "";
        }
        if (ops[k].file == i) {
            name = ops[k].kind == OP_UNLINK ? "" : ops[k].name;
        }
    }
    return name;
}

void faultfs_shim_names_commit(int n)
{
    for (int i = 0; i < G.nfiles; i++) {
        const char *name = faultfs_shim_name_after(i, n);
        if (name != G.files[i].dur_name) {
            memmove(G.files[i].dur_name, name, strlen(name) + 1);
        }
    }
    memmove(ops, ops + n, (size_t)(nops - n) * sizeof(ops[0]));
    nops -= n;
}
