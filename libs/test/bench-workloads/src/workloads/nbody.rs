//! The n-body simulation of the Computer Language Benchmarks Game (five
//! bodies, symplectic Euler, dt = 0.01): the checksum is the bits of the
//! total energy after `n` steps.
//!
//! `core` has no square root without std (and Wasm's `f64.sqrt` intrinsic
//! is unstable in Rust), so distances use [`inv_sqrt`]: Newton steps from
//! `+ - *` only, identical in every build.

/// 1/√x for positive normal `x`, to full double precision: a bit-level
/// first guess (≈3.4% off) and four Newton steps (each squares the error).
pub fn inv_sqrt(x: f64) -> f64 {
    let mut y = f64::from_bits(0x5fe6_eb50_c7b5_37a9 - (x.to_bits() >> 1));
    for _ in 0..4 {
        y *= 1.5 - 0.5 * x * y * y;
    }
    y
}

const PI: f64 = core::f64::consts::PI;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;
const N: usize = 5;

#[derive(Clone, Copy)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

const fn body(pos: [f64; 3], vel: [f64; 3], mass: f64) -> Body {
    Body {
        pos,
        vel: [
            vel[0] * DAYS_PER_YEAR,
            vel[1] * DAYS_PER_YEAR,
            vel[2] * DAYS_PER_YEAR,
        ],
        mass: mass * SOLAR_MASS,
    }
}

const BODIES: [Body; N] = [
    // Sun.
    body([0.0; 3], [0.0; 3], 1.0),
    // Jupiter.
    body(
        [
            4.841_431_442_464_72e0,
            -1.160_320_044_027_428_4e0,
            -1.036_220_444_711_231_1e-1,
        ],
        [
            1.660_076_642_744_037e-3,
            7.699_011_184_197_404e-3,
            -6.904_600_169_720_63e-5,
        ],
        9.547_919_384_243_266e-4,
    ),
    // Saturn.
    body(
        [
            8.343_366_718_244_58e0,
            4.124_798_564_124_305e0,
            -4.035_234_171_143_214e-1,
        ],
        [
            -2.767_425_107_268_624e-3,
            4.998_528_012_349_172e-3,
            2.304_172_975_737_639_3e-5,
        ],
        2.858_859_806_661_308e-4,
    ),
    // Uranus.
    body(
        [
            1.289_436_956_213_913_1e1,
            -1.511_115_140_169_863_1e1,
            -2.233_075_788_926_557_3e-1,
        ],
        [
            2.964_601_375_647_616e-3,
            2.378_471_739_594_809_5e-3,
            -2.965_895_685_402_375_6e-5,
        ],
        4.366_244_043_351_563e-5,
    ),
    // Neptune.
    body(
        [
            1.537_969_711_485_091_1e1,
            -2.591_931_460_998_796_4e1,
            1.792_587_729_503_711_8e-1,
        ],
        [
            2.680_677_724_903_893_2e-3,
            1.628_241_700_382_423e-3,
            -9.515_922_545_197_159e-5,
        ],
        5.151_389_020_466_114_5e-5,
    ),
];

/// The total energy after `n` steps.
pub fn energy_after(n: u32) -> f64 {
    let mut bodies = BODIES;
    offset_momentum(&mut bodies);
    for _ in 0..n {
        advance(&mut bodies, 0.01);
    }
    energy(&bodies)
}

pub fn run(n: u32, _scratch: &mut [u8]) -> u64 {
    energy_after(n).to_bits()
}

fn offset_momentum(bodies: &mut [Body; N]) {
    let mut p = [0.0; 3];
    for b in bodies.iter() {
        for (p, v) in p.iter_mut().zip(b.vel) {
            *p += v * b.mass;
        }
    }
    for (v, p) in bodies[0].vel.iter_mut().zip(p) {
        *v = -p / SOLAR_MASS;
    }
}

fn advance(bodies: &mut [Body; N], dt: f64) {
    for i in 0..N {
        for j in i + 1..N {
            let dx = bodies[i].pos[0] - bodies[j].pos[0];
            let dy = bodies[i].pos[1] - bodies[j].pos[1];
            let dz = bodies[i].pos[2] - bodies[j].pos[2];
            let d2 = dx * dx + dy * dy + dz * dz;
            let inv = inv_sqrt(d2);
            let mag = dt * inv * inv * inv;
            let (mi, mj) = (bodies[i].mass * mag, bodies[j].mass * mag);
            bodies[i].vel[0] -= dx * mj;
            bodies[i].vel[1] -= dy * mj;
            bodies[i].vel[2] -= dz * mj;
            bodies[j].vel[0] += dx * mi;
            bodies[j].vel[1] += dy * mi;
            bodies[j].vel[2] += dz * mi;
        }
    }
    for b in bodies.iter_mut() {
        for d in 0..3 {
            b.pos[d] += dt * b.vel[d];
        }
    }
}

fn energy(bodies: &[Body; N]) -> f64 {
    let mut e = 0.0;
    for i in 0..N {
        let b = &bodies[i];
        e += 0.5 * b.mass * (b.vel[0] * b.vel[0] + b.vel[1] * b.vel[1] + b.vel[2] * b.vel[2]);
        for c in &bodies[i + 1..] {
            let d = [
                b.pos[0] - c.pos[0],
                b.pos[1] - c.pos[1],
                b.pos[2] - c.pos[2],
            ];
            e -= b.mass * c.mass * inv_sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        }
    }
    e
}
