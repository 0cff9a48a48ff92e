// C++ threads: std::thread, mutex, condition_variable, async, thread_local, atomics.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <thread>
#include <vector>

static thread_local int local_id = -1;

int main()
{
	std::mutex m;
	long total = 0;
	std::vector<std::thread> workers;
	for (int i = 0; i < 6; i++)
		workers.emplace_back([&, i] {
			local_id = i;
			for (int k = 0; k < 2000; k++) {
				std::lock_guard<std::mutex> g(m);
				total += 1;
			}
			if (local_id != i)
				throw std::logic_error("thread_local shared");
		});
	for (auto &w : workers)
		w.join();
	std::cout << "total " << total << ", main's thread_local " << local_id << "\n";

	std::queue<int> jobs;
	std::condition_variable cv;
	bool done = false;
	std::atomic<long> sum{0};
	std::vector<std::thread> pool;
	for (int i = 0; i < 3; i++)
		pool.emplace_back([&] {
			std::unique_lock<std::mutex> l(m);
			for (;;) {
				cv.wait(l, [&] { return done || !jobs.empty(); });
				if (jobs.empty())
					return;
				int j = jobs.front();
				jobs.pop();
				l.unlock();
				sum += j;
				l.lock();
			}
		});
	for (int j = 1; j <= 1000; j++) {
		std::lock_guard<std::mutex> g(m);
		jobs.push(j);
		cv.notify_one();
	}
	{
		std::lock_guard<std::mutex> g(m);
		done = true;
	}
	cv.notify_all();
	for (auto &t : pool)
		t.join();
	std::cout << "pool sum " << sum << "\n";

	auto f = std::async(std::launch::async, [] {
		std::vector<int> v(1000);
		std::iota(v.begin(), v.end(), 1);
		return std::accumulate(v.begin(), v.end(), 0L);
	});
	std::cout << "async " << f.get() << "\n";

	auto thrower = std::async(std::launch::async, [] () -> int { throw std::runtime_error("from a thread"); });
	try {
		thrower.get();
	} catch (const std::exception &e) {
		std::cout << "caught " << e.what() << "\n";
	}

	auto t0 = std::chrono::steady_clock::now();
	std::this_thread::sleep_for(std::chrono::milliseconds(30));
	auto slept = std::chrono::steady_clock::now() - t0;
	std::cout << "slept at least 30 ms: " << std::boolalpha
		  << (slept >= std::chrono::milliseconds(30)) << "\n";
	return 0;
}
