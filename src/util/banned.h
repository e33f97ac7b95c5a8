/* Functions that must not be used in zenc, after git's banned.h: each has
 * a bounded or reentrant replacement. */
#ifndef ZENC_BANNED_H
#define ZENC_BANNED_H

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
