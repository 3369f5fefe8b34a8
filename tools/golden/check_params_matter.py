import sys; import os; H=os.path.dirname(os.path.abspath(__file__)); sys.path[:0]=[H, os.path.join(H,'src')]; os.chdir(H)
import hf_stubs; hf_stubs.install()
import torch, st_io
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
torch.set_num_threads(1); torch.backends.nnpack.set_flags(False)
for d in ['vae_tiny_attn','vae_tiny_noattn_noquant']:
    m = AutoencoderKL.from_pretrained('fixtures/'+d, low_cpu_mem_usage=False).eval()
    io = st_io.load_file(f'fixtures/{d}/io.safetensors'); x = io['input']
    def outs():
        with torch.no_grad():
            p = m.encode(x).latent_dist; return torch.cat([p.mean.flatten(), p.logvar.flatten(), m(x).sample.flatten()])
    base = outs(); dead=[]
    for n,p in m.named_parameters():
        with torch.no_grad():
            p.add_(1e-2); 
            if torch.equal(outs(), base): dead.append(n)
            p.sub_(1e-2)
    print(d, 'params without effect:', dead, '| model.config keys:', sorted(m.config.keys()))
