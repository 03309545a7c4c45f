#!/bin/bash
# The sparse get-and-clear result: RDMIG_GET_DIRTY_WORDS and netlink
# DIRTY_GET with RDMIG_DIRTY_F_WORDS report what the bitmap ioctl does,
# resume at the page they say without splitting a word, refuse bad input,
# and set undelivered pages dirty again. Expected time: under 30 seconds.
. "$(dirname "$0")/lib.sh"

t_cmocka $B/tests/guest/test_dirty_words
t "dmesg has no warning, bug or oops" dmesg_clean
