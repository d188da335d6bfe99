#ifndef FAROS_COPENSSL_SHIM_H
#define FAROS_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
// P-256 keys, ECDH and ES256 for Web Push (WebPush/P256.swift): keys from and to parameters
// by name, big numbers, the error queue.
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#endif
