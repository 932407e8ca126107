/*
 * check_msg.c - collecting problems and notes: the report keeps the first
 * few verbatim and counts all of them, so a badly damaged file cannot make
 * a report grow without bound.
 */
#include <stdio.h>
#include <string.h>

#include "check_internal.h"

void mph__ck_report_init(struct mph_check_report *r)
{
    memset(r, 0, sizeof(*r));
    r->selected_copy = -1;
    r->recovery_would_choose = -1;
    r->recovery_reason = -1;
    r->cross_check = MPH_CROSS_SKIPPED;
}

void mph__ck_msg(struct mph_check_report *r, int severity, const char *fmt, ...)
{
    char text[MPH_CHECK_MSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (severity > r->verdict) {
        r->verdict = severity;
    }
    if (severity > MPH_CHECK_CLEAN) {
        if (r->problem_count++ == 0) {
            snprintf(r->problem, sizeof(r->problem), "%s", text);
        }
    } else {
        r->note_count++;
    }
    if (r->msg_count < MPH_CHECK_MAX_MSGS) {
        struct mph_check_msg *m = &r->msgs[r->msg_count++];
        m->severity = severity;
        memcpy(m->text, text, sizeof(text));
    }
}

static void put(char (*list)[MPH_CHECK_MSG_LEN], unsigned *n, const char *fmt,
                va_list ap)
{
    if (*n < MPH_CK_NDEEP) {
        vsnprintf(list[*n], MPH_CHECK_MSG_LEN, fmt, ap);
    }
    (*n)++;
}

void mph__ck_fail(struct mph__ck_copy *c, const char *fmt, ...)
{
    va_list ap;
    c->valid = false;
    if (c->nfail++ == 0) {
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof(c->why), fmt, ap);
        va_end(ap);
    }
}

void mph__ck_deep(struct mph__ck_copy *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put(c->deep, &c->ndeep, fmt, ap);
    va_end(ap);
}

void mph__ck_cnote(struct mph__ck_copy *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put(c->note, &c->nnote, fmt, ap);
    va_end(ap);
}

void mph__ck_dump(const struct mph__ck_img *im, const char *fmt, ...)
{
    va_list ap;
    if (!im->dump) {
        return;
    }
    va_start(ap, fmt);
    vfprintf(im->dump, fmt, ap);
    va_end(ap);
}
