/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMIGD_LOG_H
#define RDMIGD_LOG_H

extern int log_verbose;
extern const char *log_role;

/* "rdmigd[role]: message" on stderr; dbg only with -v. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
