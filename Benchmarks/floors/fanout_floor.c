/*
 * The kernel's floor under fan-out (issue 23): N connected loopback TCP sockets, and one thread
 * writing one frame of SIZE bytes to each, ROUNDS times. It prints the writer thread's CPU per
 * write (user + system, RUSAGE_THREAD) and the wall time of one round (one write to every
 * socket): what delivering one event to N sessions costs with no server at all, to hold Faros's
 * server CPU per delivery against (scripts/bench-fanout prints the ratio).
 *
 * The readers run in a child process (its CPU is not the writer's), draining with epoll; the
 * writer waits for them between rounds, so every write finds room in the socket buffer, as a
 * server's does when its clients keep up. Loopback delivery runs in the writer's system call, so
 * the writer's CPU includes the kernel's whole work of getting the frame to the other socket,
 * as the server's does.
 *
 *   cc -O2 -o fanout_floor fanout_floor.c -lpthread
 *   ./fanout_floor N SIZE ROUNDS      -> one JSON line
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double thread_cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s N SIZE ROUNDS\n", argv[0]); return 2; }
    int n = atoi(argv[1]), size = atoi(argv[2]), rounds = atoi(argv[3]);
    if (n < 1 || size < 1 || rounds < 1) { fprintf(stderr, "N, SIZE and ROUNDS must be positive\n"); return 2; }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) die("listen");

    /* Readers: a child connects the n client sockets and drains them; after each round's n
     * frames it says so on a pipe. The parent only accepts: each process holds n descriptors, so
     * n can approach the per-process limit (20,000 here). */
    int done[2];
    if (pipe(done)) die("pipe");
    pid_t reader = fork();
    if (reader < 0) die("fork");
    if (reader == 0) {
        close(listener);
        int *client = malloc(sizeof(int) * n);
        int ep = epoll_create1(0);
        for (int i = 0; i < n; i++) {
            client[i] = socket(AF_INET, SOCK_STREAM, 0);
            if (client[i] < 0 || connect(client[i], (struct sockaddr *)&addr, sizeof addr)) die("connect");
            struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)i };
            epoll_ctl(ep, EPOLL_CTL_ADD, client[i], &ev);
        }
        long want = (long)n * size, got = 0;
        char buf[65536];
        struct epoll_event events[256];
        for (;;) {
            int k = epoll_wait(ep, events, 256, -1);
            if (k < 0) { if (errno == EINTR) continue; _exit(1); }
            for (int j = 0; j < k; j++) {
                ssize_t r = read(client[events[j].data.u32], buf, sizeof buf);
                if (r <= 0) _exit(0);
                got += r;
            }
            while (got >= want) {
                got -= want;
                if (write(done[1], "x", 1) != 1) _exit(1);
            }
        }
    }
    int *server = malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++) {
        server[i] = accept(listener, NULL, NULL);
        if (server[i] < 0) die("accept");
        int one = 1;
        setsockopt(server[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    char *frame = malloc(size);
    memset(frame, 'x', size);
    double *round_ms = malloc(sizeof(double) * rounds);
    double cpu = 0;
    for (int r = 0; r < rounds + 1; r++) {  /* round 0 warms up */
        double c0 = thread_cpu(), t0 = now();
        for (int i = 0; i < n; i++) {
            if (write(server[i], frame, size) != size) die("write");
        }
        double t1 = now(), c1 = thread_cpu();
        char x;
        if (read(done[0], &x, 1) != 1) die("reader");
        if (r > 0) {
            cpu += c1 - c0;
            round_ms[r - 1] = (t1 - t0) * 1000;
        }
    }
    qsort(round_ms, rounds, sizeof(double), cmp);
    printf("{\"connections\":%d,\"frame_bytes\":%d,\"rounds\":%d,\"cpu_us_per_write\":%.3f,"
           "\"round_ms_p50\":%.3f,\"round_ms_p99\":%.3f,\"round_ms_max\":%.3f}\n",
           n, size, rounds, cpu / ((double)n * rounds) * 1e6, round_ms[rounds / 2],
           round_ms[(int)(rounds * 0.99) < rounds ? (int)(rounds * 0.99) : rounds - 1], round_ms[rounds - 1]);
    for (int i = 0; i < n; i++) close(server[i]);
    waitpid(reader, NULL, 0);
    return 0;
}
