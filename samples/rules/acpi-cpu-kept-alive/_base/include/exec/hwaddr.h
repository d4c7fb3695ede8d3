#ifndef HWADDR_H
#define HWADDR_H

typedef uint64_t hwaddr;

#endif
