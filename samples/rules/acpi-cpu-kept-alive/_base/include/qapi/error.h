#ifndef QAPI_ERROR_H
#define QAPI_ERROR_H

extern Error *error_abort;
extern Error *error_fatal;

void error_setg(Error **errp, const char *fmt, ...);
void error_propagate(Error **dst_errp, Error *local_err);

#endif
