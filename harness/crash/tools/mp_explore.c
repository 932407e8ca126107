/*
 * mp-explore - the crash-state explorer (harness/crash/README.md).
 *
 *   mp-explore [options] WORKLOAD|DIR...
 *   mp-explore --replay REPRODUCER [--write-image FILE]
 *
 * Exit status: 0 no violation; 1 violations (or, with --expect-violation,
 * none); 2 usage or setup error.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mph/explore.h"
#include "mph/gen.h"

static void usage(FILE *f)
{
    fputs(
        "usage: mp-explore [options] WORKLOAD|DIR...\n"
        "       mp-explore --replay REPRODUCER [--write-image FILE]\n"
        "\n"
        "Runs each workload (a .wl file, or every one in a DIR) over\n"
        "faultfs, crashes at every crash point, between operations and\n"
        "at every injected I/O error, opens each crash image with the\n"
        "library and judges it by DESIGN.md's rules; writes a reproducer\n"
        "per violation, which --replay turns back into the failure.\n"
        "\n"
        "options:\n"
        "  --seed N          faultfs and sampling seed (1)\n"
        "  --gen N           also explore N generated workloads\n"
        "  --gen-ops N       ops per generated workload (40)\n"
        "  --gen-mix MIX     mix of generated workloads (see mph-gen)\n"
        "  --page-size N     for workloads without a page_size directive "
        "(1024)\n"
        "  --fs-page N       faultfs write-back unit (4096)\n"
        "  --sector N        atomic sector (512)\n"
        "  --garbage         torn sectors may hold garbage\n"
        "  --mode two|one|both  commit modes: two-barrier, one-flush\n"
        "                    (MP_OPEN_ONE_FLUSH) or each cell in both (both)\n"
        "  --matrix CELLS    run every workload in each device cell, at the\n"
        "                    cell's page size: 'full' (pages 1k,4k,64k x\n"
        "                    sectors 512,1k,4k,page x write-back 4k,page,\n"
        "                    garbage on) or PAGE/SECTOR/WRITEBACK[,...]\n"
        "                    e.g. 1k/512/4k,64k/p/p ('p': the page size;\n"
        "                    '/nogarbage' appended: garbage off; then\n"
        "                    '/two' or '/one': that mode only); each\n"
        "                    geometry once per --mode; with --time each\n"
        "                    cell gets an equal share of it\n"
        "  --crash2-every N  continue every fallback state and 1 in N others\n"
        "                    into a second crash (64; 0: no second crashes)\n"
        "  --crash2-sites N  second-crash sites per continuation (8; 0: all)\n"
        "  --crash2-ops N    workload ops after the recovery (2), then a\n"
        "                    protected commit\n"
        "  --damage N        per gap, N clean images with one bit flipped\n"
        "                    in their first pages: open must fail or give a\n"
        "                    state the file committed (32; 0: off)\n"
        "  --max-images N    images per site before sampling (512)\n"
        "  --budget N        stop after N states\n"
        "  --time SECONDS    stop after about this long: each cell and each\n"
        "                    listed workload gets its share (its sites are\n"
        "                    then sampled); generated ones use what is left\n"
        "  --max-violations N  stop after N violations\n"
        "  --shard I/N       explore only shard I of N\n"
        "  --checker all|class|off   rule 4 (all)\n"
        "  --life all|class|off      rule 6 (class)\n"
        "  --no-gaps         no crashes between operations\n"
        "  --no-faults       no injected I/O errors\n"
        "  --repro-dir DIR   where reproducers go (mp-explore-repro)\n"
        "  --write-image     also write each violation's crash image\n"
        "  --json FILE       JSON report ('-' for stdout)\n"
        "  --progress        progress line on stderr (default: on a tty)\n"
        "  --quiet           no summary\n"
        "  --expect-violation  succeed only if a violation is found\n"
        "  --help            this text\n"
        "\n"
        "Exit status:\n"
        "  0  no violation (--replay: the reproducer passes now)\n"
        "  1  violations (--replay: it fails again; with\n"
        "     --expect-violation: none found)\n"
        "  2  usage or setup error\n",
        f);
}

static int every(const char *s, int *out)
{
    if (strcmp(s, "all") == 0) {
        *out = MPH_EVERY_ALL;
    } else if (strcmp(s, "class") == 0) {
        *out = MPH_EVERY_CLASS;
    } else if (strcmp(s, "off") == 0) {
        *out = MPH_EVERY_OFF;
    } else {
        return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The list of workload files to explore, in order. */
struct paths {
    char **v;
    size_t n, cap;
};

static int add_path(struct paths *ps, const char *dir, const char *name)
{
    char *p;
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        char **nv = realloc(ps->v, cap * sizeof(*nv));
        if (!nv) {
            return 2;
        }
        ps->v = nv;
        ps->cap = cap;
    }
    p = malloc((dir ? strlen(dir) + 1 : 0) + strlen(name) + 1);
    if (!p) {
        return 2;
    }
    if (dir) {
        sprintf(p, "%s/%s", dir, name);
    } else {
        strcpy(p, name);
    }
    ps->v[ps->n++] = p;
    return 0;
}

/* Every *.wl file of a directory, in name order (not recursive). */
static int add_dir(struct paths *ps, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t first = ps->n;
    if (!d) {
        perror(dir);
        return 2;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".wl") != 0) {
            continue;
        }
        if (add_path(ps, dir, de->d_name) != 0) {
            closedir(d);
            return 2;
        }
    }
    closedir(d);
    if (ps->n > first) {
        qsort(ps->v + first, ps->n - first, sizeof(*ps->v), cmp_str);
    }
    return 0;
}

static int run_file(struct mph_explorer *x, const char *path)
{
    struct mph_workload *w;
    char err[512];
    int rc = mph_workload_load(path, &w, err, sizeof(err));
    if (rc != MP_OK) {
        fprintf(stderr, "mp-explore: %s\n", err);
        return 2;
    }
    rc = mph_explorer_run(x, w, path);
    mph_workload_free(w);
    if (rc != MP_OK) {
        fprintf(stderr, "mp-explore: %s: %s\n", path, mp_strerror(rc));
        return 2;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int replay(const char *path, const char *image)
{
    struct mph_workload *w;
    struct mph_verdict v;
    char err[512], mode[16] = "two";
    int rc = mph_workload_load(path, &w, err, sizeof(err));
    if (rc != MP_OK) {
        fprintf(stderr, "mp-explore: %s\n", err);
        return 2;
    }
    if (mph_workload_directive(w, "repro.mode")) {
        snprintf(mode, sizeof(mode), "%s",
                 mph_workload_directive(w, "repro.mode"));
    }
    rc = mph_explore_replay(w, image, &v);
    mph_workload_free(w);
    if (rc != MP_OK) {
        fprintf(stderr, "mp-explore: replay %s: %s%s%s\n", path,
                mp_strerror(rc), v.diff.what[0] ? ": " : "", v.diff.what);
        return 2;
    }
    if (image) {
        printf("crash image written to %s\n", image);
    }
    if (v.diff.rule == MPH_RULE_NONE) {
        printf("replay %s: no violation (mode %s, open %s, recovered %s, "
               "fallback %s)\n",
               path, mode, mp_error_name(v.open_rc),
               v.match == MPH_MATCH_PREV  ? "S_i-1"
               : v.match == MPH_MATCH_CUR ? "S_i"
                                          : "no file",
               v.fallback ? "yes" : "no");
        return 0;
    }
    printf("replay %s: VIOLATION (mode %s) rule %d (%s): %s\n", path, mode,
           v.diff.rule, mph_rule_name(v.diff.rule), v.diff.what);
    return 1;
}

int main(int argc, char **argv)
{
    struct mph_explore_config cfg;
    struct mph_gen_params gp;
    struct mph_explorer *x;
    const char *json = NULL, *replay_path = NULL, *image = NULL;
    unsigned long long ngen = 0;
    int quiet = 0, expect = 0, worst = 0, want_progress = -1, rc;
    int nwork = 0;
    char **work = calloc((size_t)argc, sizeof(*work));
    const char *matrix = NULL;
    unsigned modes = MPH_MODE_BOTH;
    struct mph_cell cells[MPH_MAX_CELLS];
    size_t ncells = 0;
    struct paths ps = { NULL, 0, 0 };
    double t0 = now(), total_time;

    if (!work) {
        return 2;
    }
    mph_explore_config_init(&cfg);
    cfg.repro_dir = "mp-explore-repro";
    /* With --replay, --write-image names the image file to write. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--replay") == 0) {
            replay_path = "";
        }
    }
    mph_gen_params_init(&gp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(work);
            return 0;
        } else if (strcmp(a, "--garbage") == 0) {
            cfg.garbage = true;
            takes = 0;
        } else if (strcmp(a, "--no-gaps") == 0) {
            cfg.gaps = false;
            takes = 0;
        } else if (strcmp(a, "--no-faults") == 0) {
            cfg.faults = false;
            takes = 0;
        } else if (strcmp(a, "--progress") == 0) {
            want_progress = 1;
            takes = 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
            takes = 0;
        } else if (strcmp(a, "--expect-violation") == 0) {
            expect = 1;
            takes = 0;
        } else if (strcmp(a, "--write-image") == 0) {
            cfg.write_image = true;
            if (replay_path) {
                if (!val) {
                    usage(stderr);
                    free(work);
                    return 2;
                }
                image = val;
            } else {
                takes = 0;
            }
        } else if (a[0] != '-') {
            work[nwork++] = argv[i];
            takes = 0;
        } else if (!val) {
            usage(stderr);
            free(work);
            return 2;
        } else if (strcmp(a, "--seed") == 0) {
            cfg.seed = strtoull(val, NULL, 0);
            gp.seed = cfg.seed;
        } else if (strcmp(a, "--gen") == 0) {
            ngen = strtoull(val, NULL, 0);
        } else if (strcmp(a, "--gen-ops") == 0) {
            gp.nops = (size_t)strtoull(val, NULL, 0);
        } else if (strcmp(a, "--gen-mix") == 0) {
            if (mph_gen_parse_mix(&gp, val) != MP_OK) {
                fprintf(stderr, "mp-explore: bad mix '%s'\n", val);
                free(work);
                return 2;
            }
        } else if (strcmp(a, "--page-size") == 0) {
            cfg.page_size = (size_t)strtoull(val, NULL, 0);
            gp.page_size = cfg.page_size;
        } else if (strcmp(a, "--fs-page") == 0) {
            cfg.fs_page = (uint32_t)strtoul(val, NULL, 0);
        } else if (strcmp(a, "--sector") == 0) {
            cfg.sector = (uint32_t)strtoul(val, NULL, 0);
        } else if (strcmp(a, "--max-images") == 0) {
            cfg.max_images = strtoull(val, NULL, 0);
        } else if (strcmp(a, "--budget") == 0) {
            cfg.budget = strtoull(val, NULL, 0);
        } else if (strcmp(a, "--max-violations") == 0) {
            cfg.max_violations = strtoull(val, NULL, 0);
        } else if (strcmp(a, "--time") == 0) {
            cfg.time_limit = strtod(val, NULL);
        } else if (strcmp(a, "--shard") == 0) {
            if (sscanf(val, "%u/%u", &cfg.shard, &cfg.nshards) != 2) {
                fprintf(stderr, "mp-explore: --shard wants I/N\n");
                free(work);
                return 2;
            }
        } else if (strcmp(a, "--checker") == 0) {
            if (every(val, &cfg.checker) != 0) {
                usage(stderr);
                free(work);
                return 2;
            }
        } else if (strcmp(a, "--life") == 0) {
            if (every(val, &cfg.life) != 0) {
                usage(stderr);
                free(work);
                return 2;
            }
        } else if (strcmp(a, "--repro-dir") == 0) {
            cfg.repro_dir = val;
        } else if (strcmp(a, "--json") == 0) {
            json = val;
        } else if (strcmp(a, "--replay") == 0) {
            replay_path = val;
        } else if (strcmp(a, "--matrix") == 0) {
            matrix = val;
        } else if (strcmp(a, "--mode") == 0) {
            if (mph_modes_parse(val, &modes) != MP_OK) {
                fprintf(stderr, "mp-explore: --mode wants two, one or both\n");
                free(work);
                return 2;
            }
        } else if (strcmp(a, "--crash2-every") == 0) {
            cfg.crash2_every = (unsigned)strtoul(val, NULL, 0);
        } else if (strcmp(a, "--crash2-sites") == 0) {
            cfg.crash2_sites = (unsigned)strtoul(val, NULL, 0);
        } else if (strcmp(a, "--damage") == 0) {
            cfg.damage = (unsigned)strtoul(val, NULL, 0);
        } else if (strcmp(a, "--crash2-ops") == 0) {
            cfg.crash2_ops = (unsigned)strtoul(val, NULL, 0);
        } else {
            fprintf(stderr, "mp-explore: unknown option %s\n", a);
            usage(stderr);
            free(work);
            return 2;
        }
        i += takes;
    }
    if (replay_path) {
        free(work);
        return replay(replay_path, image);
    }
    if (nwork == 0 && ngen == 0) {
        usage(stderr);
        free(work);
        return 2;
    }
    if (want_progress == 1 || (want_progress < 0 && isatty(2))) {
        cfg.progress = stderr;
    }
    if (matrix &&
        mph_cells_parse_modes(matrix, modes, cells, &ncells) != MP_OK) {
        fprintf(stderr, "mp-explore: bad --matrix '%s'\n", matrix);
        free(work);
        return 2;
    }
    if (!matrix) {
        /* One geometry, the options', each workload at its own page
         * size: a cell per mode. */
        for (int one = 0; one < 2; one++) {
            if (modes & (one ? MPH_MODE_ONE : MPH_MODE_TWO)) {
                memset(&cells[ncells], 0, sizeof(cells[0]));
                cells[ncells].sector = cfg.sector;
                cells[ncells].fs_page = cfg.fs_page;
                cells[ncells].garbage = cfg.garbage;
                cells[ncells].one_flush = one != 0;
                ncells++;
            }
        }
    }
    for (int i = 0; i < nwork && worst < 2; i++) {
        struct stat sb;
        int r = stat(work[i], &sb) == 0 && S_ISDIR(sb.st_mode)
                    ? add_dir(&ps, work[i])
                    : add_path(&ps, NULL, work[i]);
        worst = r > worst ? r : worst;
    }
    /* The time is shared out by the tool (cells, then workloads), so the
     * explorer's own limit is off: every workload runs at least a site. */
    total_time = cfg.time_limit;
    cfg.time_limit = 0;
    rc = worst < 2 ? mph_explorer_new(&cfg, &x) : MP_EINVAL;
    if (rc != MP_OK) {
        fprintf(stderr, "mp-explore: %s\n", mp_strerror(rc));
        for (size_t i = 0; i < ps.n; i++) {
            free(ps.v[i]);
        }
        free(ps.v);
        free(work);
        return 2;
    }
    for (size_t c = 0; c < ncells && worst < 2; c++) {
        double left = total_time > 0 ? total_time - (now() - t0) : 0;
        double cell_time = total_time > 0 ? left / (double)(ncells - c) : 0;
        double cell_end = now() + cell_time;
        /* With generated workloads after them, the listed ones take half
         * of the cell's time, each an equal share of what is left. */
        double suite_end = now() + (ngen ? cell_time / 2 : cell_time);
        if (total_time > 0 && cell_time <= 0) {
            cell_time = 1e-3; /* late: still one site per workload */
        }
        mph_explorer_begin_cell(x, &cells[c], cell_time);
        for (size_t i = 0; i < ps.n && worst < 2; i++) {
            if (total_time > 0) {
                double share = (suite_end - now()) / (double)(ps.n - i);
                mph_explorer_share(x, share > 1e-3 ? share : 1e-3);
            }
            int r = run_file(x, ps.v[i]);
            worst = r > worst ? r : worst;
        }
        for (unsigned long long k = 0; k < ngen && worst < 2; k++) {
            struct mph_gen_params p = gp;
            struct mph_workload *w;
            char name[64];
            if (strcmp(mph_explorer_stats(x)->stopped, "complete") != 0 ||
                (total_time > 0 && now() >= cell_end)) {
                break; /* out of time or budget */
            }
            p.seed = gp.seed + k;
            if (cells[c].page_size) {
                p.page_size = cells[c].page_size;
            }
            if (mph_gen_workload(&p, &w) != MP_OK) {
                worst = 2;
                break;
            }
            snprintf(name, sizeof(name), "gen-%llu",
                     (unsigned long long)p.seed);
            uint64_t refused = mph_explorer_stats(x)->workloads_refused;
            rc = mph_explorer_run(x, w, name);
            mph_workload_free(w);
            if (rc != MP_OK) {
                fprintf(stderr, "mp-explore: %s: %s\n", name, mp_strerror(rc));
                worst = 2;
                break;
            }
            if (mph_explorer_stats(x)->workloads_refused > refused) {
                /* The cell's device refuses this page size, so it refuses
                 * every generated workload: one is proof enough. */
                break;
            }
        }
        mph_explorer_end_cell(x);
    }
    for (size_t i = 0; i < ps.n; i++) {
        free(ps.v[i]);
    }
    free(ps.v);
    if (cfg.progress) {
        fputc('\n', stderr);
    }
    if (!quiet) {
        mph_explorer_summary(x, stdout);
    }
    if (json) {
        FILE *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");
        if (!f || mph_explorer_json(x, f) != MP_OK) {
            fprintf(stderr, "mp-explore: cannot write %s\n", json);
            worst = 2;
        }
        if (f && f != stdout) {
            fclose(f);
        }
    }
    if (worst < 2) {
        uint64_t nv = mph_explorer_stats(x)->violations;
        worst = expect ? (nv ? 0 : 1) : (nv ? 1 : 0);
        /* --budget and --max-violations stop on purpose; a time share
         * never skips a workload, so anything else missing is a failure. */
        if (!mph_explorer_all_ran(x) &&
            strcmp(mph_explorer_stats(x)->stopped, "budget") != 0 &&
            strcmp(mph_explorer_stats(x)->stopped, "violations") != 0) {
            fprintf(stderr, "mp-explore: not every workload ran\n");
            worst = 1;
        }
    }
    mph_explorer_free(x);
    free(work);
    return worst;
}
