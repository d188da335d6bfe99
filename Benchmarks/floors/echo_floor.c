/*
 * The kernel's floor under the echo path (issue 23): a WebSocket echo server in plain C, one
 * thread, epoll, edge-free level-triggered reads, no allocations on the message path. It does the
 * least RFC 6455 asks of a server that echoes: the opening handshake (Sec-WebSocket-Accept), frame
 * parsing, unmasking, one unmasked frame back per frame received, pong for ping, close for close.
 * No extensions, no UTF-8 validation, no limits: a floor to measure against, not a server.
 *
 * scripts/bench drives it with the same load as Faros's /echo and NIO's echo (wsload) and prints
 * Faros's server CPU per message over this one's.
 *
 *   cc -O2 -o echo_floor echo_floor.c -lcrypto
 *   ./echo_floor --port N
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER (1 << 20)

struct conn {
    int fd;
    int open;                 /* handshake done */
    size_t in_len;            /* bytes in `in` */
    size_t out_off, out_len;  /* unsent bytes in `out` */
    unsigned char *in, *out;
};

static void die(const char *what) { perror(what); exit(1); }

static int epfd;

static void watch(struct conn *c, int out) {
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void drop(struct conn *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Queues bytes and sends what the socket takes now; the rest goes on EPOLLOUT. */
static int emit(struct conn *c, const unsigned char *bytes, size_t n) {
    if (c->out_len == 0) {
        ssize_t w = write(c->fd, bytes, n);
        if (w < 0 && errno != EAGAIN) return -1;
        if (w < 0) w = 0;
        if ((size_t)w == n) return 0;
        bytes += w;
        n -= (size_t)w;
    }
    if (c->out_off + c->out_len + n > BUFFER) {
        memmove(c->out, c->out + c->out_off, c->out_len);
        c->out_off = 0;
        if (c->out_len + n > BUFFER) return -1;
    }
    memcpy(c->out + c->out_off + c->out_len, bytes, n);
    c->out_len += n;
    watch(c, 1);
    return 0;
}

static int handshake(struct conn *c) {
    unsigned char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return c->in_len < 16384 ? 0 : -1;
    size_t head = (size_t)(end - c->in) + 4;
    char key[128] = {0};
    for (char *line = (char *)c->in; line < (char *)end;) {
        char *eol = memmem(line, (size_t)((char *)end - line) + 2, "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - line) > 18 && strncasecmp(line, "Sec-WebSocket-Key:", 18) == 0) {
            char *v = line + 18;
            while (*v == ' ') v++;
            size_t n = (size_t)(eol - v);
            if (n >= sizeof key - 40) return -1;
            memcpy(key, v, n);
        }
        line = eol + 2;
    }
    if (!key[0]) return -1;
    strcat(key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((unsigned char *)key, strlen(key), digest);
    unsigned char accept[64];
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
    char response[256];
    int n = snprintf(response, sizeof response,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    memmove(c->in, c->in + head, c->in_len - head);
    c->in_len -= head;
    c->open = 1;
    return emit(c, (unsigned char *)response, (size_t)n);
}

/* Echoes every complete frame in `in`; -1 closes the connection. */
static int frames(struct conn *c) {
    size_t at = 0;
    unsigned char header[14];
    while (c->in_len - at >= 2) {
        unsigned char *f = c->in + at;
        int opcode = f[0] & 0x0f;
        int masked = f[1] & 0x80;
        uint64_t len = f[1] & 0x7f;
        size_t pos = 2;
        if (len == 126) {
            if (c->in_len - at < 4) break;
            len = ((uint64_t)f[2] << 8) | f[3];
            pos = 4;
        } else if (len == 127) {
            if (c->in_len - at < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | f[2 + i];
            pos = 10;
        }
        if (!masked || len > BUFFER / 2) return -1;
        if (c->in_len - at < pos + 4 + len) break;
        unsigned char *mask = f + pos, *payload = f + pos + 4;
        /* Unmask eight bytes at a time (the key repeated twice), then the tail. */
        uint32_t key4;
        memcpy(&key4, mask, 4);
        uint64_t key8 = ((uint64_t)key4 << 32) | key4, word;
        uint64_t i = 0;
        for (; i + 8 <= len; i += 8) {
            memcpy(&word, payload + i, 8);
            word ^= key8;
            memcpy(payload + i, &word, 8);
        }
        for (; i < len; i++) payload[i] ^= mask[i & 3];
        if (opcode == 0x8) {  /* close: answer and go */
            unsigned char reply[2] = { 0x88, 0 };
            emit(c, reply, 2);
            return -1;
        }
        size_t h = 0;
        header[h++] = (unsigned char)((f[0] & 0x80) | (opcode == 0x9 ? 0xA : opcode));
        if (len < 126) {
            header[h++] = (unsigned char)len;
        } else if (len < 65536) {
            header[h++] = 126;
            header[h++] = (unsigned char)(len >> 8);
            header[h++] = (unsigned char)len;
        } else {
            header[h++] = 127;
            for (int i = 7; i >= 0; i--) header[h++] = (unsigned char)(len >> (8 * i));
        }
        if (opcode != 0xA) {  /* a pong from the client needs no answer */
            /* Header and payload in one write: move the header in front of the payload (the
             * mask's 4 bytes and the length field are free space before it). */
            unsigned char *start = payload - h;
            memcpy(start, header, h);
            if (emit(c, start, h + len)) return -1;
        }
        at += pos + 4 + len;
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
    return 0;
}

int main(int argc, char **argv) {
    int port = 0;
    for (int i = 1; i < argc - 1; i++) if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096)) die("listen");
    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    struct epoll_event events[512];
    for (;;) {
        int k = epoll_wait(epfd, events, 512, -1);
        if (k < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int j = 0; j < k; j++) {
            struct conn *c = events[j].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    c->in = malloc(BUFFER);
                    c->out = malloc(BUFFER);
                    struct epoll_event add = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &add);
                }
                continue;
            }
            if (events[j].events & EPOLLOUT) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len);
                if (w < 0 && errno != EAGAIN) { drop(c); continue; }
                if (w > 0) { c->out_off += (size_t)w; c->out_len -= (size_t)w; }
                if (c->out_len == 0) { c->out_off = 0; watch(c, 0); }
            }
            if (events[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(c->fd, c->in + c->in_len, BUFFER - c->in_len);
                if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; drop(c); continue; }
                c->in_len += (size_t)r;
                if ((!c->open && handshake(c)) || (c->open && frames(c))) drop(c);
            }
        }
    }
}
