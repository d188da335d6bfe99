#ifndef FAROS_CCURL_SHIM_H
#define FAROS_CCURL_SHIM_H
// libcurl (Debian 12: 7.88, OpenSSL flavour) for outbound HTTP (S3) and SMTP (mail).
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call, so each
// argument type gets one typed inline wrapper here. Nothing else is wrapped.
#include <curl/curl.h>

typedef size_t (*faros_curl_data_callback)(char *buffer, size_t size, size_t count, void *user);
typedef int (*faros_curl_xferinfo_callback)(void *user, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);
typedef int (*faros_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *user);

static inline CURLcode faros_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode faros_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode faros_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode faros_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode faros_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode faros_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                       faros_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode faros_curl_setopt_xferinfo_callback(CURL *handle, faros_curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}
static inline CURLcode faros_curl_setopt_debug_callback(CURL *handle, faros_curl_debug_callback value) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, value);
}
static inline CURLcode faros_curl_setopt_sockopt_callback(CURL *handle, curl_sockopt_callback value) {
    return curl_easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, value);
}
static inline CURLcode faros_curl_setopt_closesocket_callback(CURL *handle, curl_closesocket_callback value) {
    return curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, value);
}
static inline CURLcode faros_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode faros_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif
