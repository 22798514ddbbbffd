# High-precision transcription of the isotropic theory (Lu et al. spec §4.2-4.4) in mpmath at 600 digits,
# where the cancellations of the double-precision formulas are harmless. It produced the reference values of
# IsotropicTheory.ExtremeParametersMatchAHighPrecisionTranscription (tests/test_theory_isotropic.cpp):
#   echo "alpha tau kappa rho lambda" | /usr/bin/python3 tests/data/isotropic_mpmath.py
# prints the point, e_ICL and e_IDG (lambda = 0: ridgeless closed forms, else the ridge formulas).
import sys, mpmath as mp
mp.mp.dps = 600
def M(x,k):
    if k==mp.inf: return 1/(1+x)
    b=x+1-1/k; r=mp.sqrt(b*b+4*x/k); return 2/(b+r) if b>=0 else k*(r-b)/(2*x)
def Mp(x,k):
    if k==mp.inf: return -1/(1+x)**2
    b=x+1-1/k; r=mp.sqrt(b*b+4*x/k); m=M(x,k); return -mp.mpf(1)/2*m*m*(1+(x+1+1/k)/r)
def eps_root(a,t,k,rho,lam):
    q=(1+rho)/a
    if lam==0 and t>1: return mp.mpf(0)
    f=lambda e: 1-t+t*lam/e-e*M(e+q,k)
    lo=mp.mpf(10)**-700; hi=mp.mpf(10)**700
    for _ in range(8000):
        mid=mp.sqrt(lo*hi)
        if f(mid)>0: lo=mid
        else: hi=mid
        if hi/lo-1 < mp.mpf(10)**-120: break
    return mp.sqrt(lo*hi)
def ridge(a,t,k,rho,lam):
    q=(1+rho)/a; e=eps_root(a,t,k,rho,lam); nu=q+e; m=M(nu,k); mpr=Mp(nu,k)
    qq=(rho+nu-nu*nu*m-e*(1-2*nu*m-nu*nu*mpr))/(t-1+2*e*m+e*e*mpr)
    icl=(q+1)*(1-2*nu*m-nu*nu*mpr+qq*(m+e*mpr))-2*(1-nu*m)+1+rho
    return icl, t*qq
def ridgeless(a,t,k,rho):
    q=(1+rho)/a
    if t<1:
        mu=q*M(q,k/t)
        icl=t*(1+q)/(1-t)*(1-t*(1-mu)**2-((q-rho)/q)*mu)-2*t*(1-mu)+1+rho
        e=(1-t)*q/(t*mu)
        c=1 if k==mp.inf else 1/(1-k/(1+k*e/(1-t))**2)
        idg=t*((q+e)**2/e+(rho+q-2*q*(1-t)*(q/e+1))/(1-t-c*(1-t)**2))
    else:
        m=M(q,k); ks=1 if k==mp.inf else 1/(1-k*(m/(k+m))**2)
        icl=(ks-1/(t-1))*(1+q)*(q*m)**2+(3-2*t)/(t-1)*m*q*q+((1+rho)*m/(t-1)+1)*q+rho*m/(t-1)+rho
        idg=t*(rho+q*(1-q*m))/(t-1)
    return icl, idg
for line in sys.stdin:
    a,t,k,rho,lam=[mp.mpf(x) if x!='inf' else mp.inf for x in line.split()]
    r = ridgeless(a,t,k,rho) if lam==0 else ridge(a,t,k,rho,lam)
    print(line.strip(), mp.nstr(r[0],17), mp.nstr(r[1],17))
