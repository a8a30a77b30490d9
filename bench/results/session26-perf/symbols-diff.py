import re, collections
exec(open('cpu-by-window.py').read().split("for name,s,e,p99,cpu in windows:")[0])
per={'switchboard':collections.Counter(),'socketio':collections.Counter()}
dur={'switchboard':0,'socketio':0}
for name,s,e,p99,cpu in windows:
    s=int(s)/1000; e=int(e)/1000
    target=[p for p,n in pids.items() if n==("plain" if name=="socketio" else name)][0]
    dur[name]+=e-s
    for pid,tid,t,sym,dso in rows:
        if pid!=target or t<s or t>e: continue
        if 'kernel' in dso: key='[k] '+sym
        else:
            key=re.sub(r'file:///work/main/','',sym)
            key=re.sub(r'^JS:[*~^]?','',key)
        per[name][key]+=1
keys=set(per['switchboard'])|set(per['socketio'])
rate=lambda n,k: per[n][k]/dur[n]/997*100
diffs=sorted(keys,key=lambda k: -(rate('switchboard',k)-rate('socketio',k)))
print("top extra in switchboard (% of a core): sb, plain, diff")
for k in diffs[:45]: print(f"{rate('switchboard',k):6.2f} {rate('socketio',k):6.2f} {rate('switchboard',k)-rate('socketio',k):+6.2f}  {k[:120]}")
print("...top extra in plain")
for k in diffs[-12:]: print(f"{rate('switchboard',k):6.2f} {rate('socketio',k):6.2f} {rate('switchboard',k)-rate('socketio',k):+6.2f}  {k[:120]}")
