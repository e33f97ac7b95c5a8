/* Functions that must not be used in zenc, after git's banned.h: each has
 * a bounded or reentrant replacement. */
#ifndef ZENC_BANNED_H
#define ZENC_BANNED_H

/* The headers that declare the banned functions come first.  With
 * _FORTIFY_SOURCE (Debian's default build flags) they define inline
 * wrappers named sprintf, strcpy and so on; a macro of that name already
 * in place would break those definitions.  Their include guards keep a
 * later #include of them from seeing the macros below. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_banned_in_zenc

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#endif
