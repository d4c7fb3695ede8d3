/*
 * qemu-lint: a stand-in for <glib.h>, used by the clang front-end only when
 * no real glib is on the include path (a tree without a configured build).
 * It declares the types, attribute macros and allocation macros QEMU's
 * headers rely on, so that declarations using them stay valid; it defines
 * no behaviour. Functions are left undeclared on purpose: a call of one is
 * a plain call, as tree-sitter reads it.
 */
#ifndef QEMU_LINT_GLIB_STUB_H
#define QEMU_LINT_GLIB_STUB_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

typedef int gboolean;
typedef char gchar;
typedef unsigned char guchar;
typedef short gshort;
typedef unsigned short gushort;
typedef int gint;
typedef unsigned int guint;
typedef long glong;
typedef unsigned long gulong;
typedef float gfloat;
typedef double gdouble;
typedef int8_t gint8;
typedef uint8_t guint8;
typedef int16_t gint16;
typedef uint16_t guint16;
typedef int32_t gint32;
typedef uint32_t guint32;
typedef int64_t gint64;
typedef uint64_t guint64;
typedef intptr_t gintptr;
typedef uintptr_t guintptr;
typedef size_t gsize;
typedef long gssize;
typedef int64_t goffset;
typedef uint32_t gunichar;
typedef void *gpointer;
typedef const void *gconstpointer;
typedef uint32_t GQuark;
typedef int GPid;

typedef struct _GList { gpointer data; struct _GList *next, *prev; } GList;
typedef struct _GSList { gpointer data; struct _GSList *next; } GSList;
typedef struct _GArray { gchar *data; guint len; } GArray;
typedef struct _GByteArray { guint8 *data; guint len; } GByteArray;
typedef struct _GPtrArray { gpointer *pdata; guint len; } GPtrArray;
typedef struct _GString { gchar *str; gsize len; gsize allocated_len; } GString;
typedef struct _GError { GQuark domain; gint code; gchar *message; } GError;
typedef struct _GHashTableIter { gpointer dummy[6]; } GHashTableIter;
typedef struct _GQueue { GList *head, *tail; guint length; } GQueue;
typedef struct _GMutex { gpointer p; guint i[2]; } GMutex;
typedef struct _GCond { gpointer p; guint i[2]; } GCond;
typedef struct _GPollFD { gint fd; gushort events, revents; } GPollFD;
typedef struct _GHashTable GHashTable;
typedef struct _GTree GTree;
typedef struct _GSource GSource;
typedef struct _GMainContext GMainContext;
typedef struct _GMainLoop GMainLoop;
typedef struct _GIOChannel GIOChannel;
typedef struct _GThread GThread;
typedef struct _GTimer GTimer;
typedef struct _GRand GRand;
typedef struct _GKeyFile GKeyFile;
typedef struct _GVariant GVariant;
typedef struct _GSequence GSequence;
typedef struct _GSequenceIter GSequenceIter;
typedef struct _GMappedFile GMappedFile;
typedef struct _GRegex GRegex;
typedef struct _GMatchInfo GMatchInfo;
typedef struct _GOptionContext GOptionContext;
typedef struct _GOptionGroup GOptionGroup;
typedef struct _GStringChunk GStringChunk;
typedef struct _GChecksum GChecksum;
typedef struct _GBytes GBytes;
typedef struct _GSourceFuncs GSourceFuncs;
typedef struct _GPrivate { gpointer p; void (*notify)(gpointer); gpointer future[2]; } GPrivate;
typedef struct _GOnce { int status; gpointer retval; } GOnce;
typedef struct _GStaticMutex GStaticMutex;
typedef enum { G_IO_IN = 1, G_IO_OUT = 4, G_IO_PRI = 2, G_IO_ERR = 8, G_IO_HUP = 16,
               G_IO_NVAL = 32 } GIOCondition;
typedef enum { G_IO_STATUS_ERROR, G_IO_STATUS_NORMAL, G_IO_STATUS_EOF,
               G_IO_STATUS_AGAIN } GIOStatus;
typedef enum { G_LOG_LEVEL_ERROR = 4, G_LOG_LEVEL_CRITICAL = 8, G_LOG_LEVEL_WARNING = 16,
               G_LOG_LEVEL_MESSAGE = 32, G_LOG_LEVEL_INFO = 64,
               G_LOG_LEVEL_DEBUG = 128 } GLogLevelFlags;

typedef void (*GDestroyNotify)(gpointer data);
typedef void (*GFunc)(gpointer data, gpointer user_data);
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gint (*GCompareFunc)(gconstpointer a, gconstpointer b);
typedef gint (*GCompareDataFunc)(gconstpointer a, gconstpointer b, gpointer user_data);
typedef guint (*GHashFunc)(gconstpointer key);
typedef gboolean (*GEqualFunc)(gconstpointer a, gconstpointer b);
typedef gboolean (*GSourceFunc)(gpointer user_data);
typedef gboolean (*GIOFunc)(GIOChannel *source, GIOCondition condition, gpointer data);
typedef gpointer (*GThreadFunc)(gpointer data);
typedef gboolean (*GTraverseFunc)(gpointer key, gpointer value, gpointer data);
typedef gpointer (*GCopyFunc)(gconstpointer src, gpointer data);
typedef void (*GChildWatchFunc)(GPid pid, gint wait_status, gpointer user_data);

#define TRUE 1
#define FALSE 0
#define GLIB_CHECK_VERSION(major, minor, micro) 1
#define GLIB_VERSION_MIN_REQUIRED 0
#define G_GNUC_CHECK_VERSION(major, minor) 1
#define G_GNUC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define G_GNUC_SCANF(f, a) __attribute__((format(scanf, f, a)))
#define G_GNUC_UNUSED __attribute__((unused))
#define G_GNUC_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#define G_GNUC_NULL_TERMINATED __attribute__((sentinel))
#define G_GNUC_MALLOC __attribute__((malloc))
#define G_GNUC_CONST __attribute__((const))
#define G_GNUC_PURE __attribute__((pure))
#define G_GNUC_NORETURN __attribute__((noreturn))
#define G_NORETURN __attribute__((noreturn))
#define G_GNUC_DEPRECATED
#define G_GNUC_BEGIN_IGNORE_DEPRECATIONS
#define G_GNUC_END_IGNORE_DEPRECATIONS
#define G_INLINE_FUNC static inline
#define G_STRFUNC (__func__)
#define G_STRLOC __FILE__
#define G_LIKELY(e) (e)
#define G_UNLIKELY(e) (e)
#define G_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define G_STRUCT_OFFSET(t, m) offsetof(t, m)
#define G_STATIC_ASSERT(e) _Static_assert(e, #e)
#define G_BEGIN_DECLS
#define G_END_DECLS
#define GPOINTER_TO_INT(p) ((gint)(glong)(p))
#define GPOINTER_TO_UINT(p) ((guint)(gulong)(p))
#define GINT_TO_POINTER(i) ((gpointer)(glong)(i))
#define GUINT_TO_POINTER(u) ((gpointer)(gulong)(u))
#define GSIZE_TO_POINTER(s) ((gpointer)(gsize)(s))
#define GPOINTER_TO_SIZE(p) ((gsize)(p))
#define G_MAXINT INT32_MAX
#define G_MININT INT32_MIN
#define G_MAXUINT UINT32_MAX
#define G_MAXINT64 INT64_MAX
#define G_MAXUINT64 UINT64_MAX
#define G_MAXSIZE SIZE_MAX
#define G_DEFINE_AUTOPTR_CLEANUP_FUNC(type, func)
#define G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(type, func)
#define G_DEFINE_AUTO_CLEANUP_FREE_FUNC(type, func, none)
#define g_autofree
#define g_autoptr(type) type *
#define g_autolist(type) GList *
#define g_autoslist(type) GSList *
#define g_auto(type) type
#define g_new(type, n) ((type *)g_malloc_n((n), sizeof(type)))
#define g_new0(type, n) ((type *)g_malloc0_n((n), sizeof(type)))
#define g_renew(type, mem, n) ((type *)g_realloc_n((mem), (n), sizeof(type)))
#define g_steal_pointer(pp) (*(pp))

gpointer g_malloc_n(gsize n, gsize size);
gpointer g_malloc0_n(gsize n, gsize size);
gpointer g_realloc_n(gpointer mem, gsize n, gsize size);

#endif
