/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api.h - the visibility marker of libnetbe's exported functions. */
#ifndef NETBE_API_H
#define NETBE_API_H

#ifndef NETBE_API
#define NETBE_API __attribute__((visibility("default")))
#endif

#endif /* NETBE_API_H */
