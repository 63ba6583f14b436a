/*
 * fake_privd.c - the fake privd of libprivd's unit tests (fake_privd.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "fake_privd.h"

/*
 * The fake's loop: one request frame in (after the peer's routing id),
 * decoded into f->last, and f->answer out with the request's id. It ends
 * when the test shuts the context down.
 */
static void *
fake_run(void *arg)
{
	struct fake *f = arg;
	zmq_msg_t id, body, out;
	Privd__V1__Response *answer;
	uint8_t *buf;
	size_t len;

	for (;;) {
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, f->router, 0) < 0 ||
		    zmq_msg_recv(&body, f->router, 0) < 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&body);
			break;
		}
		if (f->last != NULL)
			privd__v1__request__free_unpacked(f->last, NULL);
		f->last = privd__v1__request__unpack(
		    NULL, zmq_msg_size(&body), zmq_msg_data(&body));
		zmq_msg_close(&body);
		answer = f->last == NULL      ? NULL
		         : f->respond != NULL ? f->respond(f, f->last)
		                              : f->answer;
		if (answer == NULL) {
			zmq_msg_close(&id);
			continue;
		}
		answer->request_id = f->last->request_id;
		len = privd__v1__response__get_packed_size(answer);
		buf = malloc(len ? len : 1);
		privd__v1__response__pack(answer, buf);
		zmq_msg_init_size(&out, len);
		memcpy(zmq_msg_data(&out), buf, len);
		free(buf);
		zmq_msg_send(&id, f->router, ZMQ_SNDMORE);
		zmq_msg_send(&out, f->router, 0);
	}
	zmq_close(f->router);
	return NULL;
}

int
fake_setup(void **state)
{
	char spub[41], ssec[41], pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	struct fake *f = calloc(1, sizeof(*f));
	size_t len;
	int one = 1, zero = 0;

	if (f == NULL || zmq_curve_keypair(spub, ssec) != 0 ||
	    privd_keygen(pub, sec) != PRIVD_OK)
		return -1;
	f->ctx = zmq_ctx_new();
	f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
	len = sizeof(f->endpoint);
	/* no ZAP handler: every client key is let in */
	if (zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(f->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) !=
	        0 ||
	    zmq_setsockopt(f->router, ZMQ_CURVE_SECRETKEY, ssec, 40) != 0 ||
	    zmq_bind(f->router, "tcp://127.0.0.1:*") != 0 ||
	    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, f->endpoint, &len) !=
	        0)
		return -1;
	if (pthread_create(&f->thread, NULL, fake_run, f) != 0)
		return -1;
	if (privd_connect(&f->c, f->endpoint, spub, pub, sec) != PRIVD_OK)
		return -1;
	*state = f;
	return 0;
}

int
fake_teardown(void **state)
{
	struct fake *f = *state;

	privd_close(&f->c);
	zmq_ctx_shutdown(f->ctx);
	pthread_join(f->thread, NULL);
	zmq_ctx_term(f->ctx);
	if (f->last != NULL)
		privd__v1__request__free_unpacked(f->last, NULL);
	free(f);
	return 0;
}
