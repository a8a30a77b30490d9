import re, sys, collections
windows=[l.split() for l in open('windows.txt')]
pids={}
for kv in open('pids').read().split():
    k,v=kv.split('='); pids[int(v)]=k
line_re=re.compile(r'^\s*(\d+)/(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s+(.*?)\s+\(([^)]*)\)\s*$')
rows=[]
for line in open('script.txt'):
    m=line_re.match(line)
    if not m: continue
    pid,tid,t,ip,sym,dso=int(m[1]),int(m[2]),float(m[3]),m[4],m[5],m[6]
    rows.append((pid,tid,t,sym,dso))
def cat(pid,tid,sym,dso):
    thread='main' if pid==tid else 'other-thread'
    if 'kernel' in dso: c='kernel'
    elif dso.startswith('/tmp/perf-') or 'JIT' in dso or sym.startswith('JS:') or sym.startswith('Builtin') : c='JS/builtins'
    elif dso.endswith('node') or '/node' in dso: c='node-native'
    elif 'libc' in dso: c='libc'
    else: c='other'
    return thread, c
for name,s,e,p99,cpu in windows:
    s=int(s)/1000; e=int(e)/1000
    target=[p for p,n in pids.items() if n==("plain" if name=="socketio" else name)][0]
    tot=collections.Counter(); syms=collections.Counter()
    n=0
    for pid,tid,t,sym,dso in rows:
        if pid!=target or t<s or t>e: continue
        th,c=cat(pid,tid,sym,dso)
        tot[(th,c)]+=1; n+=1
        syms[(th, sym[:90], dso.split('/')[-1][:25])]+=1
    dur=e-s
    print(f"== {name} window {dur:.1f}s p99={p99} harness-cpu={cpu}%  samples={n} => {n/dur/997*100:.1f}% of a core")
    for k,v in sorted(tot.items(), key=lambda x:-x[1]): print(f"   {k[0]:13s} {k[1]:12s} {v/dur/997*100:5.1f}%")
    if '-v' in sys.argv:
        for k,v in syms.most_common(int(sys.argv[sys.argv.index('-v')+1])): print(f"      {v/dur/997*100:5.2f}% {k}")
