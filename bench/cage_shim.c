/* Preloaded into Debian's cage 0.1.4 by the benchmark (bench/wayland.py), never into a browser; nothing of it runs on
 * a device. Three things cage 0.1.4 lacks for a measurement on wlroots' headless backend:
 *
 * 1. A pointer. The headless backend has no input devices and this machine's kernel has no uinput, so the harness
 *    taps through wlroots' own virtual-pointer protocol (zwlr_virtual_pointer_manager_v1), which later cage releases
 *    (0.1.5) offer themselves. Each new virtual pointer is announced as a new input device of cage's backend, so it
 *    goes through cage's seat and cursor exactly as a touchscreen's or mouse's events from libinput do, and reaches
 *    the client as wl_pointer events.
 * 2. The device's screen size: the headless output is 1280x720 unless PALIM_BENCH_OUTPUT (WxH) sets another mode.
 * 3. Root. cage refuses to start when it could regain root after dropping it (it tries setuid(0)/setgid(0)); the
 *    benchmark runs as root like CI, with the browsers' sandboxes off as on the X11 path, so here those two calls fail
 *    with EPERM as they would for the device's unprivileged kiosk user.
 * 4. A frame counter. With PALIM_BENCH_FRAMES set to a file, two 64-bit counters in it (shared memory, no system call
 *    per frame): the client's commits that damaged its buffer, and the damaged pixels they added up to.
 *
 * PALIM_BENCH_WLR_DEBUG=1 turns on wlroots' debug log (cage's release build logs errors only).
 * Built by bench/wayland.py with: cc -shared -fPIC -DWLR_USE_UNSTABLE $(pkg-config --cflags --libs wlroots) -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/util/log.h>

static struct wlr_backend *backend;
static struct wl_listener new_pointer_listener, new_output_listener;

static void on_new_pointer(struct wl_listener *listener, void *data) {
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	/* cage's seat listens here for every input device: the pointer joins its cursor like a real one. */
	wl_signal_emit(&backend->events.new_input, &event->new_pointer->input_device);
}

static void on_new_output(struct wl_listener *listener, void *data) {
	struct wlr_output *output = data;
	int width = 0, height = 0;
	const char *size = getenv("PALIM_BENCH_OUTPUT");
	if (size && sscanf(size, "%dx%d", &width, &height) == 2 && width > 0 && height > 0) {
		wlr_output_set_custom_mode(output, width, height, 0);
	}
}

struct wlr_backend *wlr_backend_autocreate(struct wl_display *display) {
	struct wlr_backend *(*real)(struct wl_display *) = dlsym(RTLD_NEXT, "wlr_backend_autocreate");
	backend = real(display);
	if (!backend) {
		return NULL;
	}
	struct wlr_virtual_pointer_manager_v1 *manager = wlr_virtual_pointer_manager_v1_create(display);
	new_pointer_listener.notify = on_new_pointer;
	wl_signal_add(&manager->events.new_virtual_pointer, &new_pointer_listener);
	/* Added before cage's own listener, so the mode is set before cage enables and commits the output. */
	new_output_listener.notify = on_new_output;
	wl_signal_add(&backend->events.new_output, &new_output_listener);
	return backend;
}

static volatile uint64_t *frames; /* [0] commits with damage, [1] damaged pixels */
static struct wl_listener new_surface_listener;

struct surface_watch {
	struct wl_listener commit, destroy;
};

static void on_commit(struct wl_listener *listener, void *data) {
	struct wlr_surface *surface = data;
	int count = 0;
	pixman_box32_t *boxes = pixman_region32_rectangles(&surface->buffer_damage, &count);
	uint64_t pixels = 0;
	for (int i = 0; i < count; i++) {
		pixels += (uint64_t)(boxes[i].x2 - boxes[i].x1) * (uint64_t)(boxes[i].y2 - boxes[i].y1);
	}
	if (pixels > 0) {
		frames[0]++;
		frames[1] += pixels;
	}
}

static void on_surface_destroy(struct wl_listener *listener, void *data) {
	struct surface_watch *watch = wl_container_of(listener, watch, destroy);
	wl_list_remove(&watch->commit.link);
	wl_list_remove(&watch->destroy.link);
	free(watch);
}

static void on_new_surface(struct wl_listener *listener, void *data) {
	struct wlr_surface *surface = data;
	struct surface_watch *watch = calloc(1, sizeof(*watch));
	if (!watch) {
		return;
	}
	watch->commit.notify = on_commit;
	wl_signal_add(&surface->events.commit, &watch->commit);
	watch->destroy.notify = on_surface_destroy;
	wl_signal_add(&surface->events.destroy, &watch->destroy);
}

struct wlr_compositor *wlr_compositor_create(struct wl_display *display, struct wlr_renderer *renderer) {
	struct wlr_compositor *(*real)(struct wl_display *, struct wlr_renderer *) =
		dlsym(RTLD_NEXT, "wlr_compositor_create");
	struct wlr_compositor *compositor = real(display, renderer);
	const char *path = getenv("PALIM_BENCH_FRAMES");
	if (!compositor || !path) {
		return compositor;
	}
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 2 * sizeof(uint64_t)) != 0) {
		return compositor;
	}
	void *shared = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (shared == MAP_FAILED) {
		return compositor;
	}
	frames = shared;
	new_surface_listener.notify = on_new_surface;
	wl_signal_add(&compositor->events.new_surface, &new_surface_listener);
	return compositor;
}

int setuid(uid_t uid) {
	if (uid == 0) {
		errno = EPERM;
		return -1;
	}
	int (*real)(uid_t) = dlsym(RTLD_NEXT, "setuid");
	return real(uid);
}

int setgid(gid_t gid) {
	if (gid == 0) {
		errno = EPERM;
		return -1;
	}
	int (*real)(gid_t) = dlsym(RTLD_NEXT, "setgid");
	return real(gid);
}

void wlr_log_init(enum wlr_log_importance verbosity, wlr_log_func_t callback) {
	void (*real)(enum wlr_log_importance, wlr_log_func_t) = dlsym(RTLD_NEXT, "wlr_log_init");
	real(getenv("PALIM_BENCH_WLR_DEBUG") ? WLR_DEBUG : verbosity, callback);
}
