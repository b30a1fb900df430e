/* This machine's memory read bandwidth, the bound of a decode step at batch 1 (every weight read once per token).
 * Sums a 1 GiB float array with AVX-512 loads on all OpenMP threads; prints the best of 7 passes.
 *   gcc -O3 -mavx512f -fopenmp tools/bench/read_bandwidth.c -o /tmp/read_bandwidth && /tmp/read_bandwidth
 * (docs/performance.md: 43.2 GB/s on 2 threads, 26.9 GB/s on 1, on this project's machine.) Not part of the build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <immintrin.h>
int main(){ size_t n=(size_t)1<<28; /* 1 GiB of floats */ float*a=aligned_alloc(64,n*4); 
 #pragma omp parallel for
 for(size_t i=0;i<n;i++) a[i]=i*1e-9f;
 double best=1e9;
 for(int r=0;r<7;r++){ double t=omp_get_wtime();
  float total=0;
  #pragma omp parallel reduction(+:total)
  { __m512 s0=_mm512_setzero_ps(),s1=_mm512_setzero_ps(),s2=_mm512_setzero_ps(),s3=_mm512_setzero_ps();
    #pragma omp for
    for(size_t i=0;i<n;i+=64){ s0=_mm512_add_ps(s0,_mm512_load_ps(a+i)); s1=_mm512_add_ps(s1,_mm512_load_ps(a+i+16)); s2=_mm512_add_ps(s2,_mm512_load_ps(a+i+32)); s3=_mm512_add_ps(s3,_mm512_load_ps(a+i+48)); }
    total+=_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0,s1),_mm512_add_ps(s2,s3))); }
  t=omp_get_wtime()-t; if(t<best)best=t; if(total==1.234f)printf("x"); }
 printf("read %.1f GB/s (best of 7, %d threads)\n", n*4/best/1e9, omp_get_max_threads()); }
